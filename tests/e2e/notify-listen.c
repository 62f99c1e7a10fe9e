/* notify-listen.c: a NOTIFY_SOCKET of the tests' own.  Binds a datagram
 * socket at argv[1] and appends every message it receives, one line per
 * field, to argv[2], until it has waited argv[3] seconds (default 30). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 1 };
    time_t end;
    int fd;

    if (argc < 3) {
        fprintf(stderr, "usage: notify-listen SOCKET OUTFILE [SECONDS]\n");
        return 2;
    }
    end = time(NULL) + (argc > 3 ? atoi(argv[3]) : 30);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        perror("notify-listen");
        return 1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (time(NULL) < end) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        FILE *f;

        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            perror("recv");
            return 1;
        }
        buf[n] = '\0';
        f = fopen(argv[2], "a");
        if (!f)
            return 1;
        fprintf(f, "%s\n", buf);
        fclose(f);
    }
    return 0;
}
