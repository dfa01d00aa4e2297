/* caemp run's log lines for the journal. systemd sets JOURNAL_STREAM to
 * "DEV:INODE" of the stream it connects stderr to; when stderr is that
 * stream, lines carry syslog's priority prefix ("<4>ctx: msg") and no
 * time stamp, which the journal adds itself. Elsewhere (a terminal, a
 * file, a child of that service with stderr redirected) the library's
 * AnyEvent::Log format stays. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caemp.h"

int caemp_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
        fstat(STDERR_FILENO, &st))
        return 0;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

/* AnyEvent::Log's levels to syslog's priorities, as its syslog output
 * maps them: fatal 1 is emerg 0, ... debug 8 and trace 9 are debug 7. */
static int priority(int level)
{
    if (level < 1)
        level = 1;
    return level > 8 ? 7 : level - 1;
}

void caemp_journal_log(int level, const char *ctx, const char *msg,
                       void *ud)
{
    (void)ud;
    fprintf(stderr, "<%d>%s: %s\n", priority(level), ctx, msg);
}
