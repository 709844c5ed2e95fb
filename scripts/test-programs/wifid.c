/* wifid: a Wi-Fi daemon linked against the system's OpenSSL, for the hardened test
 * image. Like hostapd, it keeps the version of the OpenSSL headers it was compiled
 * against ("built with OpenSSL 3.0.16"), which is not the version of the libcrypto the
 * image ships: a component list must not take it for one. */
#include <stdio.h>

#define OPENSSL_VERSION_TEXT "OpenSSL 3.0.16 11 Feb 2025"

extern const char *OpenSSL_version(int type);

int main(void)
{
    printf("wifid: built with %s, running with %s\n", OPENSSL_VERSION_TEXT, OpenSSL_version(0));
    return 0;
}
