/* libaemp: the job queue. Every user callback runs from here, drained
 * by an event on the caller's event_base, or at the very end of one of
 * the node's own event callbacks (aempi_kernel_io_leave, and after a read): a
 * message sent from inside a callback is never delivered inside the
 * aemp_snd() call, and the network code never has user code deeper in its
 * stack than its outermost frame, where a link the user's code closes
 * stays valid (links are freed by the reaper, later). */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kernel.h"

/* ---- the job queue ---- */

void aempi_kernel_queue_job(aemp_node *n, aemp_job *job)
{
    job->next = NULL;
    /* Monitors fired by the running job run right after it; monitors of
     * a failed link run before any other job (and sooner: at the end of
     * the callback that found the failure, aempi_kernel_io_leave). */
    if (job->kind == JOB_FIRE && (n->dispatching || job->name)) {
        *n->urgent_tail = job;
        n->urgent_tail = &job->next;
        if (!n->dispatching)
            event_active(n->jobs_ev, 0, 0);
        return;
    }
    /* a queue that holds jobs has its event active already (or is
     * being run, and run_jobs activates it for what is left) */
    int was_empty = !n->jobs;
    *n->jobs_tail = job;
    n->jobs_tail = &job->next;
    if (was_empty)
        event_active(n->jobs_ev, 0, 0);
}

/* Jobs are the per-message allocation: reuse them. */
#define JOB_POOL_MAX 1024

aemp_job *aempi_kernel_job_alloc(aemp_node *n)
{
    aemp_job *job = n->job_pool;
    if (job) {
        n->job_pool = job->next;
        n->job_pool_len--;
        memset(job, 0, sizeof *job);
        return job;
    }
    return calloc(1, sizeof *job);
}

aemp_job *aempi_kernel_job_new(aemp_node *n, aemp_job_kind kind,
                               const char *name,
                               aemp_val *val)
{
    aemp_job *job = aempi_kernel_job_alloc(n);
    if (!job) {
        aemp_unref(val);
        return NULL;
    }
    job->kind = kind;
    job->name = name ? strdup(name) : NULL;
    job->val = val;
    return job;
}

void aempi_kernel_queue_call(aemp_node *n, aemp_job_fn fn, const char *name,
                             aemp_val *val, uint64_t id)
{
    aemp_job *job = aempi_kernel_job_new(n, JOB_CALL, name, val);
    if (!job)
        return;
    job->fn = fn;
    job->id = id;
    aempi_kernel_queue_job(n, job);
}

static void job_free(aemp_node *n, aemp_job *job)
{
    free(job->name);
    aemp_unref(job->src_ref);
    aemp_unref(job->port);
    /* most often the last reference to a frame from a link */
    aempi_pool_drop(n ? &n->pool : NULL, job->val);
    if (job->mon)
        aempi_kernel_monitor_free(job->mon);
    if (n && n->job_pool_len < JOB_POOL_MAX) {
        job->next = n->job_pool;
        n->job_pool = job;
        n->job_pool_len++;
    } else
        free(job);
}

void aempi_kernel_jobs_free(aemp_node *n)
{
    while (n->urgent) {
        aemp_job *next = n->urgent->next;
        job_free(NULL, n->urgent);
        n->urgent = next;
    }
    n->urgent_tail = &n->urgent;
    while (n->jobs) {
        aemp_job *next = n->jobs->next;
        job_free(NULL, n->jobs);
        n->jobs = next;
    }
    n->jobs_tail = &n->jobs;
    while (n->job_pool) {
        aemp_job *next = n->job_pool->next;
        free(n->job_pool);
        n->job_pool = next;
    }
    n->job_pool_len = 0;
}

/* ---- the dispatcher ---- */

/* Jobs one round may run before the node returns to the event loop. */
#define JOBS_PER_ROUND 10000

static void run_job(aemp_node *n, aemp_job *job)
{
    n->jobs_run++;
    switch (job->kind) {
    case JOB_DELIVER: aempi_kernel_run_deliver(n, job); break;
    case JOB_KILL: aempi_kernel_run_kill(n, job->name, job->val); break;
    case JOB_FIRE:
        aempi_kernel_run_fire(n, job->mon, job->val);
        if (job->name)
            aempi_kernel_remote_fired(n, job->name);
        break;
    case JOB_NODE_EVENT: aempi_kernel_run_node_event(n, job); break;
    case JOB_CALL: job->fn(n, job); break;
    }
}

/* Runs a round's worth of jobs from the list and returns the rest.
 * Monitors a job fires run right after it, before the jobs behind it: a
 * kil0 request fires its monitors before the next message is delivered,
 * as Perl runs them inside the request. Everything else a job queues goes
 * to the back, as Perl delays local kills and sends. */
static aemp_job *run_round(aemp_node *n, aemp_job *jobs)
{
    n->dispatching = 1;
    for (int count = 0; jobs && count < JOBS_PER_ROUND; count++) {
        aemp_job *job = jobs;
        jobs = job->next;
        run_job(n, job);
        job_free(n, job);
        if (n->urgent) {
            *n->urgent_tail = jobs;
            jobs = n->urgent;
            n->urgent = NULL;
            n->urgent_tail = &n->urgent;
        }
    }
    n->dispatching = 0;
    return jobs;
}

/* Puts jobs in front of the list at *head (tail pointer *tail). */
static void put_back(aemp_job *jobs, aemp_job **head, aemp_job ***tail)
{
    if (!jobs)
        return;
    aemp_job **end = &jobs;
    while (*end)
        end = &(*end)->next;
    *end = *head;
    if (!*head)
        *tail = end;
    *head = jobs;
}

void aempi_kernel_run_jobs(aemp_node *n)
{
    /* the monitors of failed links first, then the queue in order; after
     * a round's worth the rest waits for the next turn of the loop, so a
     * busy node still reads its sockets */
    aemp_job *jobs = n->urgent;
    if (jobs)
        *n->urgent_tail = n->jobs;
    else
        jobs = n->jobs;
    n->urgent = n->jobs = NULL;
    n->urgent_tail = &n->urgent;
    n->jobs_tail = &n->jobs;
    put_back(run_round(n, jobs), &n->jobs, &n->jobs_tail);
    if (n->jobs)
        event_active(n->jobs_ev, 0, 0);
}

void aempi_kernel_io_enter(aemp_node *n)
{
    aempi_link_host_enter(&n->transport);
}

void aempi_kernel_io_leave(aemp_node *n)
{
    aempi_link_host_leave(&n->transport); /* aempi_kernel_io_done at the end */
}

void aempi_kernel_io_deliver(aemp_node *n)
{
    if (n->dispatching)
        return;
    aempi_kernel_run_jobs(n);
    /* all done: the job event, activated when they were queued, would
     * only take an empty turn (a job queued later activates it again) */
    if (!n->jobs && !n->urgent)
        event_del(n->jobs_ev);
}

void aempi_kernel_io_done(aemp_node *n)
{
    /* inside a job the dispatcher runs them right after it */
    if (!n->urgent || n->dispatching)
        return;
    aemp_job *jobs = n->urgent;
    n->urgent = NULL;
    n->urgent_tail = &n->urgent;
    put_back(run_round(n, jobs), &n->urgent, &n->urgent_tail);
    if (n->urgent)
        event_active(n->jobs_ev, 0, 0);
}
