/*
 * slow_listen_del.c - an LD_PRELOAD shim for test_serve.py: removing a
 * listening socket from an epoll set (epoll_ctl EPOLL_CTL_DEL) waits 20 ms
 * first. Any window in which two threads both remove it, the second then
 * failing, becomes 20 ms wide instead of a few instructions.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    static int (*real_epoll_ctl)(int, int, int, struct epoll_event *);
    if (!real_epoll_ctl) real_epoll_ctl = (int (*)(int, int, int, struct epoll_event *))dlsym(RTLD_NEXT, "epoll_ctl");
    int listening = 0;
    socklen_t len = sizeof listening;
    if (op == EPOLL_CTL_DEL && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return real_epoll_ctl(epfd, op, fd, event);
}
