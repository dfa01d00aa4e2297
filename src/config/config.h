/* libaemp internal: configuration, as AnyEvent::MP::Config and the first
 * half of AnyEvent::MP::Kernel::configure compute it.
 *
 * The rc file is the one Perl's aemp writes: $PERL_ANYEVENT_MP_RC, else
 * ~/.perl-anyevent-mp; a relaxed JSON object. See docs/config.md. */
#ifndef AEMP_CONFIG_H
#define AEMP_CONFIG_H

#include <stddef.h>

#include "aemp/value.h"

/* The length of a random id (Kernel.pm's $RUNIQ: nonce62 10). */
#define AEMP_RUNIQ_LEN 10

/* Sets *err (if err is not NULL) to a malloc'd message; for the functions
 * below that report details that way. */
void aempi_config_set_err(char **err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- the rc file (config_rc.c) ---- */

/* What Config.pm uses when there is no rc file: {"version": 1}. */
aemp_val *aempi_rc_default(void);

/* The rc file's path: $PERL_ANYEVENT_MP_RC, else $HOME/.perl-anyevent-mp,
 * else $APPDATA/perl-anyevent-mp (as Config.pm). malloc'd. */
char *aempi_rc_default_path(void);

/* Loads an rc file with JSON::XS's relaxed syntax ('#' comments, a comma
 * after the last item, literal TABs in strings). A missing file gives what
 * Config.pm then uses, {"version": 1}. A file that cannot be read or does
 * not parse as an object is an error with a message naming the file (Perl
 * silently uses {"version": 1} instead; we would rather say so). */
int aempi_rc_read(const char *path, aemp_val **rc, char **err);

/* Parses rc text (the part of aempi_rc_read after reading the file); name
 * is used in messages. */
int aempi_rc_parse(const char *text, size_t len, const char *name,
                   aemp_val **rc, char **err);

/* Writes the rc file as Config.pm's save: JSON::XS pretty layout plus a
 * newline, to "PATH~new~", then PATH~ becomes a hard link to the old file
 * and PATH~new~ is renamed over PATH. Keys are sorted (Perl writes them in
 * hash order, which is random). A new file is made with mode 0600 (Perl
 * uses 0666 & ~umask; the file holds the secret); an existing file keeps
 * its mode. */
int aempi_rc_write(const char *path, const aemp_val *rc, char **err);

/* JSON::XS->new->pretty->canonical->encode: 3-space indent, "key" : value,
 * sorted keys, "[]"/"{}" for empty containers, a newline at the end.
 * *out malloc'd (NULL on failure); AEMP_ENOMEM, or AEMP_EINVAL when v is
 * nested too deep. */
int aempi_json_pretty(const aemp_val *v, char **out, size_t *len);

/* n random characters of 0-9A-Za-z into out (n+1 bytes with the NUL). */
int aempi_config_nonce62(char *out, size_t n);

/* A new $RUNIQ: nonce62 10 with the last character upper-cased.
 * out must hold AEMP_RUNIQ_LEN + 1 bytes. */
int aempi_config_runiq(char *out);

/* ---- profiles (config.c) and configure (config_configure.c) ---- */

/* Perl's stringification of a scalar: strings as they are, integers in
 * decimal, doubles as %.15g, booleans "1"/"0", null "". Arrays and maps
 * give "ARRAY(0x...)" / "HASH(0x...)" as Perl would. malloc'd. */
char *aempi_config_perl_str(const aemp_val *v);

/* The host name, as POSIX::uname's node name. malloc'd. */
char *aempi_config_nodename(void);

/* A key-value list (an array) as a map, the way Perl assigns a list to a
 * hash: later keys win; keys are stringified. With odd_is_profile and an
 * odd count the list gets "profile" in front (configure's rule); without,
 * a lone last key gets null (find_profile's rule). */
int aempi_config_args_from_list(const aemp_val *list, int odd_is_profile,
                                aemp_val **out, char **err);

/* Config.pm find_profile: the effective configuration for profile name
 * (NULL: none, the global defaults only) given configure's arguments (a
 * map or NULL; may hold norc and force, which are not copied). rc may be
 * NULL (no file). The result is a new map.
 *
 * Lowest to highest priority: built-in defaults, args, the rc's global
 * keys, the parent chain (farthest first), the profile; with force the
 * args go on top; with norc the rc is ignored. As in Perl, the result
 * holds the rc's own keys too ("profile", "version", ...), and "profile"
 * is {} when the rc has none but a name was given.
 *
 * A parent chain that comes back to a profile already visited is an
 * error (Perl recurses until it runs out of memory). */
int aempi_config_find_profile(const aemp_val *rc, const char *name,
                              const aemp_val *args, aemp_val **out,
                              char **err);

/* Expands a node id template as configure does: every %n becomes the host
 * name (nodename, NULL: aempi_config_nodename()), then every %u and a
 * trailing '/' become runiq (NULL: a fresh aempi_config_runiq()).
 * *randomised is set when anything was replaced by runiq (local port ids
 * then have no prefix). */
int aempi_config_expand_nodeid(const char *tmpl, const char *nodename,
                               const char *runiq, char **out,
                               int *randomised);

/* What resolving depends on besides the arguments; NULL members mean the
 * real thing. Tests fill them in. */
typedef struct aemp_config_env {
    const char *rcpath;           /* NULL: aempi_rc_default_path() */
    const aemp_val *rc;           /* an rc already loaded: used instead of
                                     reading rcpath (caemp's, with edits) */
    const char *nodename;         /* NULL: aempi_config_nodename() */
    const char *runiq;            /* NULL: a fresh aempi_config_runiq() */
    const aemp_val *local_addrs;  /* NULL: aempi_config_local_addrs() */
} aemp_config_env;

/* Kernel.pm configure, the part before any socket is made. Picks the
 * profile (args' "profile", else the host name), loads the rc file unless
 * norc, finds the profile, and returns the effective configuration with
 *   "nodeid"  the expanded node id ("PROFILE/" when none is configured),
 *   "binds"   the expanded binds (["*"] when none or false), see
 *             aempi_config_expand_hostports,
 *   "seeds"   the expanded seeds, duplicates removed ([] when none);
 * every other key as find_profile gives it. *randomised as for
 * aempi_config_expand_nodeid. */
int aempi_config_resolve_env(const aemp_val *args, const aemp_config_env *env,
                             aemp_val **out, int *randomised, char **err);

/* The same with the real environment and the rc at rcpath (NULL: the
 * default path). */
int aempi_config_resolve(const aemp_val *args, const char *rcpath,
                         aemp_val **out, int *randomised, char **err);

/* ---- binds and seeds (config_addr.c, config_binds.c) ---- */

/* AnyEvent::Socket::parse_hostport: host and port of "host:port",
 * "[v6]:port", "v6", "host port", "/unix/path" ... with defport used when
 * no port is given (NULL: a port is required). 0 and malloc'd *host and
 * *port on success, AEMP_EINVAL when unparsable. */
int aempi_parse_hostport(const char *s, const char *defport, char **host,
                         char **port);

/* AnyEvent::Socket::parse_address for IP addresses (parse_ipv6, which
 * takes IPv4 forms too, "127.1" included): 4 bytes for IPv4 and v4-mapped
 * IPv6, 16 for other IPv6, 0 when s is not an address. */
size_t aempi_parse_address(const char *s, unsigned char out[16]);

/* AnyEvent::Socket::format_address of an IPv4 (4 bytes) or IPv6 (16 bytes)
 * address: dotted quad, IPv4 for v4-mapped IPv6, otherwise Perl's own
 * compressed form. out must hold 64 bytes. */
void aempi_format_address(const unsigned char *addr, size_t len, char *out);

/* AnyEvent::Socket::format_hostport: "[host]:port" when host has a ':',
 * else "host:port". malloc'd. */
char *aempi_format_hostport(const char *host, const char *port);

/* The addresses a '*' host stands for, formatted, as Kernel.pm collects
 * them with Net::Interface: per interface, its IPv4 addresses except
 * 127/8, then its IPv6 addresses in 2000::/3 or fc00::/7. */
int aempi_config_local_addrs(aemp_val **out, char **err);

/* Kernel.pm _resolve for each entry of list (strings, each a comma list of
 * transport descriptors), results concatenated in order into a new array
 * of "host:port" strings. Per descriptor: digits only (or empty) means
 * "nodename:digits" (or "nodename"); the port defaults to 0 and '*' is 0;
 * host '*' is every address of local_addrs; a name is resolved (IPv4
 * first, "localhost" is 127.0.0.1 and ::1 as AnyEvent has it) and each
 * address formatted with format_address/format_hostport. Duplicates are
 * removed within each entry, as Perl does. nodename and local_addrs may
 * be NULL for the real ones. */
int aempi_config_expand_hostports(const aemp_val *list, const char *nodename,
                                  const aemp_val *local_addrs, aemp_val **out,
                                  char **err);

#endif
