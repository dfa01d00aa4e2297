/* What the compat unit tests share: recording callbacks and running the
 * compat loop until something happened. */
#ifndef COMPAT_TESTUTIL_H
#define COMPAT_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp_compat.h"

typedef struct seen {
    int calls;
    aemp_val *last; /* a copy of the last @_ */
    char self[128];
} seen;

static inline seen *note(void *ud, const aemp_val *args)
{
    seen *s = ud;
    s->calls++;
    aemp_unref(s->last);
    s->last = aemp_copy(args);
    snprintf(s->self, sizeof s->self, "%s", SELF ? SELF : "");
    return s;
}

static inline int record(const aemp_val *args, void *ud)
{
    note(ud, args);
    return 0;
}

/* Runs the loop until *count reaches n, for at most five seconds. */
static inline void wait_for(const int *count, int n)
{
    for (int i = 0; i < 500 && *count < n; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(aemp_compat_base(), &tv);
        event_base_dispatch(aemp_compat_base());
    }
}

/* One round of the loop, for conditions only the test can see. */
static inline void spin(void)
{
    struct timeval tv = {0, 10000};
    event_base_loopexit(aemp_compat_base(), &tv);
    event_base_dispatch(aemp_compat_base());
}

static inline int json_is(const aemp_val *v, const char *want)
{
    char *j = v ? aemp_to_json(v, NULL) : NULL;
    int ok = j && !strcmp(j, want);
    if (!ok)
        fprintf(stderr, "got %s want %s\n", j ? j : "(null)", want);
    free(j);
    return ok;
}

/* json_is, and the value goes */
static inline int take_json_is(aemp_val *v, const char *want)
{
    int ok = json_is(v, want);
    aemp_unref(v);
    return ok;
}

static inline void quiet(int level, const char *ctx, const char *msg,
                         void *ud)
{
    (void)level, (void)ctx, (void)msg, (void)ud;
}

static inline int run_suite(TCase *tc)
{
    Suite *s = suite_create("compat");
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
