/* libaemp: the rc file, read and written as AnyEvent::MP::Config does it
 * (JSON::XS->new->utf8->relaxed to read, ->pretty->utf8 to write), and the
 * random strings aemp puts into it. */
#include "config.h"
#include "random.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "aemp/error.h"
#include "buf.h"
#include "value_int.h"
#include "value_json.h"

char *aempi_rc_default_path(void)
{
    const char *rc = getenv("PERL_ANYEVENT_MP_RC");
    const char *home = getenv("HOME");
    const char *appdata = getenv("APPDATA");
    char *path;

    /* Perl tests "exists", so an empty variable still counts */
    if (rc)
        return strdup(rc);
    if (asprintf(&path, home ? "%s/.perl-anyevent-mp" : "%s/perl-anyevent-mp",
                 home ? home : appdata ? appdata : "") < 0)
        return NULL;
    return path;
}

static int json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Index of the next significant character at or after i, outside a
 * string: whitespace and '#' comments skipped. */
static size_t next_significant(const char *s, size_t len, size_t i)
{
    while (i < len) {
        if (json_space(s[i])) {
            i++;
        } else if (s[i] == '#') {
            while (i < len && s[i] != '\n' && s[i] != '\r')
                i++;
        } else {
            break;
        }
    }
    return i;
}

/* Rewrites JSON::XS's relaxed syntax into plain JSON for the parser:
 * '#' comments become spaces, a comma right before ']' or '}' (after a
 * value, not "[," or ",,") becomes a space, a literal TAB in a string
 * becomes "\t". Offsets stay as they were except after such TABs. */
static char *unrelax(const char *s, size_t len, size_t *outlen)
{
    aemp_buf b = AEMP_BUF_INIT;
    char prev = 0; /* last significant character outside strings */
    int ok = aempi_buf_reserve(&b, len) == AEMP_OK;

    for (size_t i = 0; ok && i < len; i++) {
        char c = s[i];
        if (c == '"') {
            /* copy the string through its closing quote */
            ok = aempi_buf_putc(&b, c) == AEMP_OK;
            for (i++; ok && i < len && s[i] != '"'; i++) {
                if (s[i] == '\t') {
                    ok = aempi_buf_append(&b, "\\t", 2) == AEMP_OK;
                    continue;
                }
                if (s[i] == '\\' && i + 1 < len)
                    ok = aempi_buf_putc(&b, s[i++]) == AEMP_OK;
                ok = ok && aempi_buf_putc(&b, s[i]) == AEMP_OK;
            }
            if (ok && i < len)
                ok = aempi_buf_putc(&b, '"') == AEMP_OK;
            prev = '"';
        } else if (c == '#') {
            while (ok && i < len && s[i] != '\n' && s[i] != '\r')
                ok = aempi_buf_putc(&b, ' ') == AEMP_OK, i++;
            i--;
        } else if (c == ',') {
            size_t j = next_significant(s, len, i + 1);
            int closing = j < len && (s[j] == ']' || s[j] == '}');
            int after_value = prev && prev != '[' && prev != '{'
                              && prev != ',' && prev != ':';
            ok = aempi_buf_putc(&b,
                                closing && after_value ? ' ' : ',') == AEMP_OK;
            prev = ',';
        } else {
            ok = aempi_buf_putc(&b, c) == AEMP_OK;
            if (!json_space(c))
                prev = c;
        }
    }
    if (!ok) {
        aempi_buf_free(&b);
        return NULL;
    }
    return aempi_buf_detach(&b, outlen);
}

int aempi_rc_parse(const char *text, size_t len, const char *name,
                   aemp_val **rc, char **err)
{
    size_t plen;
    char *plain = unrelax(text, len, &plen);
    char *perr = NULL;

    *rc = NULL;
    if (!plain)
        return AEMP_ENOMEM;
    aemp_val *v = aemp_from_json(plain, plen, &perr);
    free(plain);
    if (!v) {
        aempi_config_set_err(err, "%s: %s", name,
                             perr ? perr : "malformed JSON");
        free(perr);
        return AEMP_ECONFIG;
    }
    if (aemp_type_of(v) != AEMP_MAP) {
        aemp_unref(v);
        aempi_config_set_err(err, "%s: the rc file must hold a JSON object",
                             name);
        return AEMP_ECONFIG;
    }
    *rc = v;
    return AEMP_OK;
}

aemp_val *aempi_rc_default(void)
{
    aemp_val *rc = aemp_map();
    if (rc && aemp_map_set(rc, "version", aemp_int(1))) {
        aemp_unref(rc);
        return NULL;
    }
    return rc;
}

int aempi_rc_read(const char *path, aemp_val **rc, char **err)
{
    aemp_buf b = AEMP_BUF_INIT;
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");

    *rc = NULL;
    if (!f) {
        if (errno != ENOENT) {
            aempi_config_set_err(err, "%s: %s", path, strerror(errno));
            return AEMP_EIO;
        }
        *rc = aempi_rc_default();
        return *rc ? AEMP_OK : AEMP_ENOMEM;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (aempi_buf_append(&b, chunk, n)) {
            fclose(f);
            aempi_buf_free(&b);
            return AEMP_ENOMEM;
        }
    int failed = ferror(f);
    int saved_errno = errno;
    fclose(f);
    if (failed) {
        aempi_buf_free(&b);
        aempi_config_set_err(err, "%s: %s", path, strerror(saved_errno));
        return AEMP_EIO;
    }
    int r = aempi_rc_parse(b.p ? b.p : "", b.len, path, rc, err);
    aempi_buf_free(&b);
    return r;
}

/* ---- writing ---- */

static int key_cmp(const void *pa, const void *pb)
{
    const aemp_val *a = *(const aemp_val *const *)pa;
    const aemp_val *b = *(const aemp_val *const *)pb;
    size_t la, lb;
    const char *sa = aemp_str_ptr(a, &la), *sb = aemp_str_ptr(b, &lb);
    int c = memcmp(sa, sb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int indent(aemp_buf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        if (aempi_buf_append(b, "   ", 3))
            return AEMP_ENOMEM;
    return AEMP_OK;
}

static int pretty(aemp_buf *b, const aemp_val *v, int depth);

static int pretty_map(aemp_buf *b, const aemp_val *m, int depth)
{
    size_t n = aemp_map_len(m);
    if (n == 0)
        return aempi_buf_puts(b, "{}");

    /* canonical: entries in bytewise key order */
    size_t *order = malloc(n * sizeof *order);
    const aemp_val **keys = malloc(n * sizeof *keys);
    int rc = order && keys ? AEMP_OK : AEMP_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++)
        keys[i] = aempi_map_key_val_at(m, i);
    if (!rc)
        qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 0; !rc && i < n; i++)
        for (size_t k = 0; k < n; k++)
            if (aempi_map_key_val_at(m, k) == keys[i]) {
                order[i] = k;
                break;
            }

    if (!rc)
        rc = aempi_buf_puts(b, "{\n");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = indent(b, depth + 1);
        if (!rc)
            rc = aempi_json_write(b, keys[i], 0);
        if (!rc)
            rc = aempi_buf_puts(b, " : ");
        if (!rc)
            rc = pretty(b, aemp_map_value_at(m, order[i]), depth + 1);
        if (!rc)
            rc = aempi_buf_puts(b, i + 1 < n ? ",\n" : "\n");
    }
    if (!rc)
        rc = indent(b, depth);
    if (!rc)
        rc = aempi_buf_putc(b, '}');
    free(order);
    free(keys);
    return rc;
}

static int pretty_array(aemp_buf *b, const aemp_val *a, int depth)
{
    size_t n = aemp_array_len(a);
    if (n == 0)
        return aempi_buf_puts(b, "[]");

    int rc = aempi_buf_puts(b, "[\n");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = indent(b, depth + 1);
        if (!rc)
            rc = pretty(b, aemp_array_at(a, i), depth + 1);
        if (!rc)
            rc = aempi_buf_puts(b, i + 1 < n ? ",\n" : "\n");
    }
    if (!rc)
        rc = indent(b, depth);
    if (!rc)
        rc = aempi_buf_putc(b, ']');
    return rc;
}

static int pretty(aemp_buf *b, const aemp_val *v, int depth)
{
    if (depth > AEMP_MAX_DEPTH)
        return AEMP_EINVAL;
    switch (aemp_type_of(v)) {
    case AEMP_MAP:
        return pretty_map(b, v, depth);
    case AEMP_ARRAY:
        return pretty_array(b, v, depth);
    default:
        return aempi_json_write(b, v, 0);
    }
}

int aempi_json_pretty(const aemp_val *v, char **out, size_t *len)
{
    aemp_buf b = AEMP_BUF_INIT;
    int r = pretty(&b, v, 0);

    *out = NULL;
    if (!r)
        r = aempi_buf_putc(&b, '\n');
    if (!r && !(*out = aempi_buf_detach(&b, len)))
        r = AEMP_ENOMEM;
    if (r)
        aempi_buf_free(&b);
    return r;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int aempi_rc_write(const char *path, const aemp_val *rc, char **err)
{
    size_t len;
    char *text, *tmp = NULL, *old = NULL;
    struct stat st;
    int r = aempi_json_pretty(rc, &text, &len);

    if (r)
        goto out;
    r = AEMP_ENOMEM;
    if (asprintf(&tmp, "%s~new~", path) < 0 || asprintf(&old, "%s~", path) < 0)
        goto out;

    /* the secret lives here: private unless the user chose otherwise */
    int existed = stat(path, &st) == 0;
    mode_t mode = existed ? (st.st_mode & 07777) : 0600;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    /* and readable by whom it was: root editing a service's rc (root:caemp
     * 0640, docs/operations.md) must not leave it root's alone. Who may
     * not give the file away keeps it as their own, as before. */
    if (fd >= 0 && existed) {
        int given = fchown(fd, st.st_uid, st.st_gid);
        (void)given;
    }
    if (fd < 0
        || fchmod(fd, mode) != 0
        || write_all(fd, text, len) != 0
        || write_all(fd, "\n", 1) != 0 /* Config.pm adds one to encode's */
        || fsync(fd) != 0) {
        aempi_config_set_err(err, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        r = AEMP_EIO;
        goto out;
    }
    if (close(fd) != 0) {
        aempi_config_set_err(err, "%s: %s", tmp, strerror(errno));
        unlink(tmp);
        r = AEMP_EIO;
        goto out;
    }

    /* keep the previous version as PATH~, as Config.pm does */
    unlink(old);
    if (link(path, old) != 0 && errno != ENOENT) {
        /* not fatal: Perl ignores this too */
    }
    if (rename(tmp, path) != 0) {
        aempi_config_set_err(err, "%s: %s", path, strerror(errno));
        unlink(tmp);
        r = AEMP_EIO;
        goto out;
    }
    r = AEMP_OK;
out:
    free(text);
    free(tmp);
    free(old);
    return r;
}

/* ---- random strings ---- */

int aempi_config_nonce62(char *out, size_t n)
{
    static const char alnum[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char r[64];
    size_t have = 0, used = 0;

    for (size_t i = 0; i < n;) {
        if (used == have) {
            if (aempi_random_bytes(r, sizeof r))
                return AEMP_EIO;
            have = sizeof r;
            used = 0;
        }
        unsigned char c = r[used++];
        if (c < 248) /* 4 * 62: keeps every character equally likely */
            out[i++] = alnum[c % 62];
    }
    out[n] = 0;
    return AEMP_OK;
}

int aempi_config_runiq(char *out)
{
    int rc = aempi_config_nonce62(out, AEMP_RUNIQ_LEN);
    /* Kernel.pm upper-cases the last character so these ids never clash
     * with $UNIQ-based ones */
    char *last = &out[AEMP_RUNIQ_LEN - 1];
    if (!rc && *last >= 'a' && *last <= 'z')
        *last = (char)(*last - 'a' + 'A');
    return rc;
}
