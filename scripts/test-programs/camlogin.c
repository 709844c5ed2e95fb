/* camlogin: a camera's login program as vendors write it, planted in the weak test image.
 * Its login compares what the user types with credentials compiled into the program:
 * a pointer and an array whose symbol names say "password", a user and password pair
 * side by side in .rodata, and a base64 and a hex "user:password" for the cloud and the
 * factory. Everything else (usage text, prompts, format strings) must not be reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *SERVICE_PASS = "Sv3rv1ce#2019";
char admin_pwd[] = "Adm1n!cam";
const char *cloud_credentials = "Y2xvdWQ6UzNjcjN0S2V5IQ==";
const char *factory_credentials = "666163746f72793a466163743072792131";

static const char usage[] = "usage: camd [-f] [-p port] [-c config]\n";

static int check_login(const char *user, const char *password)
{
    if (strcmp(user, "admin") == 0 && strcmp(password, "xmhdipc") == 0)
        return 1;
    if (strcmp(user, "support") == 0 && strcmp(password, SERVICE_PASS) == 0)
        return 1;
    return strcmp(password, admin_pwd) == 0;
}

static void chomp(char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
}

int main(int argc, char **argv)
{
    char user[64], password[64];
    if (argc > 1 && strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    fputs("login: ", stdout);
    fflush(stdout);
    if (!fgets(user, sizeof user, stdin))
        return 1;
    fputs("Password: ", stdout);
    fflush(stdout);
    if (!fgets(password, sizeof password, stdin))
        return 1;
    chomp(user);
    chomp(password);
    if (check_login(user, password)) {
        printf("Welcome, %s\n", user);
        printf("cloud %zu factory %zu\n", strlen(cloud_credentials), strlen(factory_credentials));
        return 0;
    }
    fprintf(stderr, "Login incorrect for %s\n", user);
    return 1;
}
