/* A vendor login done right, for the hardened test image: it reads the password hash
 * from the shadow file and compares with crypt(). Its strings (prompts, format strings,
 * usage text, symbol names about passwords) must not be taken for credentials. */
#include <crypt.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>

const char *password_prompt = "Password: ";
const char *PASSWORD_FILE = "/etc/shadow";
int password_min_length = 8;
static const char usage[] = "usage: login-ok USER\n";

int main(int argc, char **argv)
{
    char password[128];
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    struct spwd *entry = getspnam(argv[1]);
    fputs(password_prompt, stdout);
    fflush(stdout);
    if (!entry || !fgets(password, sizeof password, stdin))
        return 1;
    password[strcspn(password, "\n")] = '\0';
    if ((int)strlen(password) < password_min_length) {
        fprintf(stderr, "password shorter than %d characters\n", password_min_length);
        return 1;
    }
    const char *hashed = crypt(password, entry->sp_pwdp);
    if (hashed && strcmp(hashed, entry->sp_pwdp) == 0) {
        printf("user %s authenticated (%s)\n", argv[1], PASSWORD_FILE);
        return 0;
    }
    puts("Login incorrect");
    return 1;
}
