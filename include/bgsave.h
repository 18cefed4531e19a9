/*
 * bgsave.h - write a snapshot of the daemon's memory off its event loop.
 *
 * bgsave_start forks a child; the child sees memory as it was at the fork
 * (copy-on-write), runs the write callback (a state file, say: format,
 * write, fsync, rename) and exits; the parent goes on serving its loop at
 * once, paying only for the fork.  The loop learns of the child's end
 * through a pidfd (or, on kernels without pidfd_open, a 50 ms poll),
 * reaps that child only (never another one, such as a helper process),
 * and reports through the done callback, from the loop.  At most one child
 * runs at a time.
 *
 * The child must touch nothing but its output: it runs no loop, it keeps
 * no inherited descriptor but standard input, output and error (the
 * queue's netlink socket, the control socket and the loop's are closed
 * in it, so a parent that dies leaves nothing of them bound), and it
 * leaves by _exit, so no exit handler and no stdio buffer of the parent
 * runs twice.  Its priority is lowered (nice 10) so that on a busy machine
 * the loop's process comes first.
 *
 * Order: bgsave_new after the loop; bgsave_free before it (it waits for a
 * running child).  bgsave_wait is for shutdown, when blocking is fine.
 */
#ifndef SMTPGATE_BGSAVE_H
#define SMTPGATE_BGSAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"

/* In the child: write the snapshot.  0, or -1 with a message in err. */
typedef int (*bgsave_write_cb)(void *arg, char *err, size_t errlen);
/*
 * In the loop, once the child has been reaped: rc 0 when it wrote the
 * snapshot, -1 with err ("..." from the child, or how it died).  ms is the
 * child's run time, fork to reap.
 */
typedef void (*bgsave_done_cb)(void *arg, int rc, const char *err,
    int64_t ms);

struct bgsave;

struct bgsave *bgsave_new(struct evloop *ev, bgsave_done_cb done, void *arg);
/* Wait for a running child (reporting it), then free. */
void bgsave_free(struct bgsave *b);

/*
 * Fork a child that runs write(warg).  0; -1 with err when a child runs
 * already (errno EBUSY) or it cannot be started (fork, pipe).
 */
int bgsave_start(struct bgsave *b, bgsave_write_cb write, void *warg,
    char *err, size_t errlen);
bool bgsave_running(const struct bgsave *b);
/* Block until the running child (if any) ends, and report it. */
void bgsave_wait(struct bgsave *b);

#endif
