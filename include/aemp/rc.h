/* libaemp: the rc file, AnyEvent::MP's configuration file, shared with
 * Perl's aemp and with caemp (AnyEvent::MP::Config's load, save and
 * find_profile; docs/config.md describes the file and its keys).
 *
 * An aemp_rc is the file's data (a map, as Config.pm's %CFG) and its path.
 * Keys live at the top level (the global defaults) or in a profile:
 * top-level "profile" is a map from profile names to maps. Functions
 * taking a `profile` name work on that profile's map, NULL on the top
 * level.
 *
 * Arguments: a NULL handle, a NULL key where one is needed or a NULL out
 * pointer is refused with AEMP_EINVAL (NULL for a pointer); a value the
 * function takes is released then too. Details of a failure (a file name,
 * a parse position, the profile that loops) are kept for aemp_rc_errmsg.
 * A handle belongs to one thread at a time.
 */
#ifndef AEMP_RC_H
#define AEMP_RC_H

#include "aemp/export.h"

#include <stddef.h>

#include "aemp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aemp_rc aemp_rc;

/* The length of a secret from aemp_rc_gensecret, without the NUL. */
#define AEMP_RC_SECRET_LEN 180

/* A handle for the rc file at path (copied), NULL for the default path:
 * $PERL_ANYEVENT_MP_RC, else $HOME/.perl-anyevent-mp, else
 * $APPDATA/perl-anyevent-mp, as Config.pm picks it. Nothing is read: the
 * data is {"version": 1}, what Config.pm uses without a file, until
 * aemp_rc_load. NULL only when out of memory. Free it with aemp_rc_free. */
AEMP_API aemp_rc *aemp_rc_new(const char *path);

/* Frees the handle and its data. NULL-safe. */
AEMP_API void aemp_rc_free(aemp_rc *rc);

/* The path (borrowed, valid while rc lives); NULL for a NULL handle. */
AEMP_API const char *aemp_rc_path(const aemp_rc *rc);

/* Why the last call on rc failed (borrowed, valid until the next call on
 * rc): "" after none, "no rc" for a NULL handle. Never NULL. */
AEMP_API const char *aemp_rc_errmsg(const aemp_rc *rc);

/* Reads the file (JSON::XS relaxed: '#' comments, a comma before a
 * closing bracket, literal TABs in strings), replacing the data. A missing
 * file gives {"version": 1} and AEMP_OK, as in Config.pm. A file that
 * cannot be read is AEMP_EIO, one that is not a JSON object AEMP_ECONFIG
 * (Perl quietly uses {"version": 1} then; we say so); the data is then
 * left as it was. */
AEMP_API int aemp_rc_load(aemp_rc *rc);

/* Writes the data to the path as Config.pm's save does: JSON::XS's pretty
 * layout plus a newline, written to "PATH~new~", the old file kept as
 * "PATH~", then renamed over PATH. Unlike Perl, keys are sorted and a new
 * file gets mode 0600 (it holds the secret); an existing file keeps its
 * mode. Everything in the data is written (Config.pm's save first removes
 * "dirty" and writes only if it was true: a caller that counts edits
 * there, as aemp does, deletes it itself). AEMP_EIO when it cannot. */
AEMP_API int aemp_rc_save(aemp_rc *rc);

/* The value of key at the top level (profile NULL) or in profile; key
 * NULL: the whole map (the data, or the profile's entry, whatever it
 * holds). Borrowed: valid until the next change to rc; aemp_copy it to
 * keep or edit it. NULL when there is no such key or profile (or a
 * profile's entry is not a map). */
AEMP_API const aemp_val *aemp_rc_get(const aemp_rc *rc, const char *profile,
                                     const char *key);

/* Sets key at the top level (profile NULL) or in profile, taking v (NULL,
 * a failed constructor: AEMP_ENOMEM). A missing (or null) profile, and a
 * missing "profile" map, are made. key NULL with a profile sets the
 * profile's whole entry, which must then be a map (AEMP_EINVAL
 * otherwise; aemp's "profile NAME" is: unless aemp_is_true(get(rc, NAME,
 * NULL)), set(rc, NAME, NULL, aemp_map())). Both NULL is AEMP_EINVAL.
 * AEMP_ECONFIG when "profile" or the profile holds something other than a
 * map. */
AEMP_API int aemp_rc_set(aemp_rc *rc, const char *profile, const char *key,
                         aemp_val *v);

/* Removes key at the top level or in profile; key NULL with a profile
 * removes the whole profile (aemp's delprofile). AEMP_OK when it was
 * there, AEMP_ENOTFOUND when not (as Perl's delete, nothing changes). */
AEMP_API int aemp_rc_del(aemp_rc *rc, const char *profile, const char *key);

/* Config.pm's find_profile: the effective configuration for profile name
 * (NULL: none, the top level only) given configure's arguments args (a
 * map, or NULL; norc and force are honoured, not copied). Lowest to
 * highest priority: Config.pm's defaults (monitor_timeout 30,
 * connect_interval 2, framing_format, auth_offer, auth_accept), args,
 * the top level, the parent chain (the farthest parent first), the
 * profile; with force, args go on top; with norc the data is not used.
 * As in Perl the result holds the top level's own keys too ("profile",
 * "version", ...), and "profile" is {} when there is none but name is
 * given. *out is a new map (aemp_unref it). AEMP_ECONFIG when a parent
 * chain loops (Perl recurses until memory runs out) or "profile" or a
 * profile on the chain is not a map; args that are not a map are
 * AEMP_EINVAL. rc is not changed (Perl's lookup adds an empty "profile"
 * map to %CFG when there is none). */
AEMP_API int aemp_rc_find_profile(aemp_rc *rc, const char *name,
                                  const aemp_val *args,
                                  aemp_val **out);

/* A new shared secret, as aemp's gensecret makes one: AEMP_RC_SECRET_LEN
 * random characters of [0-9A-Za-z] (from OpenSSL's RAND_bytes, every
 * character equally likely) and a NUL, into out, which holds size bytes:
 * at least AEMP_RC_SECRET_LEN + 1, else AEMP_EINVAL. AEMP_EIO when there
 * is no randomness. It is not stored: aemp_rc_set(rc, NULL, "secret",
 * aemp_str(out)) does that. */
AEMP_API int aemp_rc_gensecret(char *out, size_t size);

/* v as the rc file holds it and aemp's showconfig prints it:
 * JSON::XS->pretty->canonical (3-space indent, "key" : value, sorted keys,
 * "[]" and "{}" for empty containers) and a newline. *out is malloc'd
 * (free() it), *len (len may be NULL) its length without the NUL.
 * AEMP_EINVAL for v nested deeper than 512 levels. */
AEMP_API int aemp_rc_pretty(const aemp_val *v, char **out, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
