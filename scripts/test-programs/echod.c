/* A harmless network service for the hardened test image: it listens on a TCP port and
 * echoes a greeting. It imports socket, bind, listen and accept like a bind shell, but
 * never hands the connection to a shell: a backdoor check must leave it alone. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7;
    int server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (server < 0 || bind(server, (struct sockaddr *)&address, sizeof address) < 0 || listen(server, 1) < 0)
        return 1;
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0)
            continue;
        const char greeting[] = "hello from echod\n";
        if (write(client, greeting, sizeof greeting - 1) < 0)
            perror("write");
        close(client);
    }
}
