/* fw_keys.c: CurveZMQ key files and client allow-lists, read and written as Z85 text lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "proto/fw_keys.h"

static const char z85_chars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				".-:+=^!/*?&<>()[]{}@%$#";

static void seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || !errsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

bool bl_fw_key_decode(const char *text, uint8_t key[32])
{
	if (!text || strlen(text) != BL_FW_KEY_Z85_LEN)
		return false;
	for (const char *p = text; *p; p++)
		if (!strchr(z85_chars, *p))
			return false;
	return zmq_z85_decode(key, text) != NULL;
}

/* Called for each key found in a file; returns 0 or a negative errno (stops the parse). */
typedef int (*key_fn)(void *ctx, const char *z85, int line);

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Reads PATH line by line: blank lines and lines starting with '#' are skipped; any other line
 * holds one key as its first word, optionally followed by whitespace and a '#' comment. Z85 uses
 * '#' as a digit, but never as the first of a 5-character group (it is worth 84 * 85^4, more than
 * 4 bytes can hold), so a key cannot start with '#' and the rule is unambiguous. At most
 * max_keys keys (0: any number). Returns the number of keys or a negative errno with ERR set. */
static int parse_key_file(const char *path, int max_keys, key_fn fn, void *ctx, char *err,
			  size_t errsz)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		seterr(err, errsz, "%s: %s", path, strerror(e));
		return -e;
	}
	char *buf = NULL;
	size_t cap = 0;
	int line = 0, nkeys = 0, rc = 0;
	while (getline(&buf, &cap, f) >= 0) {
		line++;
		char *s = buf;
		while (is_space(*s))
			s++;
		if (!*s || *s == '#')
			continue;
		size_t w = 0;
		while (s[w] && !is_space(s[w]))
			w++;
		char word[BL_FW_KEY_Z85_LEN + 1];
		uint8_t key[32];
		bool iskey = w == BL_FW_KEY_Z85_LEN;
		if (iskey) {
			memcpy(word, s, w);
			word[w] = 0;
			iskey = bl_fw_key_decode(word, key);
		}
		if (!iskey) {
			if (w != BL_FW_KEY_Z85_LEN) {
				seterr(err, errsz,
				       "%s:%d: malformed key: %zu characters, expected %d", path,
				       line, w, BL_FW_KEY_Z85_LEN);
			} else {
				size_t bad = strspn(s, z85_chars);
				seterr(err, errsz,
				       "%s:%d: malformed key: '%c' at column %zu is not a Z85 "
				       "character",
				       path, line, s[bad], bad + 1);
			}
			rc = -EINVAL;
			break;
		}
		char *rest = s + w;
		while (is_space(*rest))
			rest++;
		if (*rest && *rest != '#') {
			seterr(err, errsz, "%s:%d: text after the key (comments start with '#')",
			       path, line);
			rc = -EINVAL;
			break;
		}
		if (max_keys && nkeys == max_keys) {
			seterr(err, errsz, "%s:%d: more than %d key(s) in this file", path, line,
			       max_keys);
			rc = -EINVAL;
			break;
		}
		nkeys++;
		rc = fn(ctx, word, line);
		if (rc < 0) {
			seterr(err, errsz, "%s:%d: %s", path, line, strerror(-rc));
			break;
		}
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
		seterr(err, errsz, "%s: read error", path);
	}
	free(buf);
	fclose(f);
	return rc < 0 ? rc : nkeys;
}

static int keep_one(void *ctx, const char *z85, int line)
{
	(void)line;
	memcpy(ctx, z85, BL_FW_KEY_Z85_LEN + 1);
	return 0;
}

int bl_fw_keys_load_one(const char *path, char z85[BL_FW_KEY_Z85_LEN + 1], char *err, size_t errsz)
{
	int n = parse_key_file(path, 1, keep_one, z85, err, errsz);
	if (n < 0)
		return n;
	if (n == 0) {
		seterr(err, errsz, "%s: no key in the file", path);
		return -ENODATA;
	}
	return 0;
}

static int write_key_file(const char *path, const char *z85, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	char text[128];
	int n = snprintf(text, sizeof(text), "%s\n", z85);
	int rc = 0;
	if (fchmod(fd, mode) < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc)
		unlink(path);
	return rc;
}

int bl_fw_keys_generate(const char *prefix, char public_z85[BL_FW_KEY_Z85_LEN + 1], char *err,
			size_t errsz)
{
	char pubpath[4096], keypath[4096];
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix) >= sizeof(pubpath) ||
	    (size_t)snprintf(keypath, sizeof(keypath), "%s.key", prefix) >= sizeof(keypath)) {
		seterr(err, errsz, "%s: path too long", prefix);
		return -ENAMETOOLONG;
	}
	struct stat st;
	if (!stat(keypath, &st) || !stat(pubpath, &st)) {
		seterr(err, errsz, "%s: key files exist already (never overwritten)",
		       !stat(keypath, &st) ? keypath : pubpath);
		return -EEXIST;
	}
	char pub[BL_FW_KEY_Z85_LEN + 1], sec[BL_FW_KEY_Z85_LEN + 1];
	if (zmq_curve_keypair(pub, sec)) {
		int e = zmq_errno();
		seterr(err, errsz, "zmq_curve_keypair: %s", zmq_strerror(e));
		return -e;
	}
	int rc = write_key_file(keypath, sec, 0600);
	if (rc) {
		seterr(err, errsz, "%s: %s", keypath, strerror(-rc));
	} else {
		rc = write_key_file(pubpath, pub, 0644);
		if (rc) {
			seterr(err, errsz, "%s: %s", pubpath, strerror(-rc));
			unlink(keypath);
		}
	}
	if (!rc && public_z85)
		memcpy(public_z85, pub, sizeof(pub));
	memset(sec, 0, sizeof(sec));
	return rc;
}

int bl_fw_keys_load(const char *prefix, char public_z85[BL_FW_KEY_Z85_LEN + 1],
		    char secret_z85[BL_FW_KEY_Z85_LEN + 1], char *err, size_t errsz)
{
	char pubpath[4096], keypath[4096];
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix) >= sizeof(pubpath) ||
	    (size_t)snprintf(keypath, sizeof(keypath), "%s.key", prefix) >= sizeof(keypath)) {
		seterr(err, errsz, "%s: path too long", prefix);
		return -ENAMETOOLONG;
	}
	int rc = bl_fw_keys_load_one(keypath, secret_z85, err, errsz);
	if (rc)
		return rc;
	char derived[BL_FW_KEY_Z85_LEN + 1];
	if (zmq_curve_public(derived, secret_z85)) {
		int e = zmq_errno();
		seterr(err, errsz, "%s: cannot derive the public key: %s", keypath,
		       zmq_strerror(e));
		return -e;
	}
	struct stat st;
	if (!stat(pubpath, &st)) {
		char onfile[BL_FW_KEY_Z85_LEN + 1];
		rc = bl_fw_keys_load_one(pubpath, onfile, err, errsz);
		if (rc)
			return rc;
		if (strcmp(onfile, derived)) {
			seterr(err, errsz, "%s: does not match the secret key in %s", pubpath,
			       keypath);
			return -EINVAL;
		}
	}
	if (public_z85)
		memcpy(public_z85, derived, sizeof(derived));
	return 0;
}

bool bl_fw_allowlist_contains(const struct bl_fw_allowlist *al, const uint8_t key[32])
{
	for (size_t i = 0; i < al->n; i++)
		if (!memcmp(al->keys[i], key, 32))
			return true;
	return false;
}

static int add_binary(struct bl_fw_allowlist *al, const uint8_t key[32])
{
	if (bl_fw_allowlist_contains(al, key))
		return 0;
	if (al->n == al->cap) {
		size_t cap = al->cap ? 2 * al->cap : 16;
		void *p = realloc(al->keys, cap * sizeof(*al->keys));
		if (!p)
			return -ENOMEM;
		al->keys = p;
		al->cap = cap;
	}
	memcpy(al->keys[al->n++], key, 32);
	return 0;
}

int bl_fw_allowlist_add(struct bl_fw_allowlist *al, const char *z85)
{
	uint8_t key[32];
	if (!bl_fw_key_decode(z85, key))
		return -EINVAL;
	return add_binary(al, key);
}

static int add_cb(void *ctx, const char *z85, int line)
{
	(void)line;
	return bl_fw_allowlist_add(ctx, z85);
}

static int pub_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 4 && !strcmp(d->d_name + n - 4, ".pub");
}

int bl_fw_allowlist_load(struct bl_fw_allowlist *al, const char *path, char *err, size_t errsz)
{
	struct bl_fw_allowlist fresh = {0};
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		seterr(err, errsz, "%s: %s", path, strerror(e));
		return -e;
	}
	int rc = 0;
	if (S_ISDIR(st.st_mode)) {
		struct dirent **names;
		int n = scandir(path, &names, pub_filter, alphasort);
		if (n < 0) {
			int e = errno;
			seterr(err, errsz, "%s: %s", path, strerror(e));
			return -e;
		}
		for (int i = 0; i < n; i++) {
			char file[4096];
			if (!rc && (size_t)snprintf(file, sizeof(file), "%s/%s", path,
						    names[i]->d_name) >= sizeof(file)) {
				seterr(err, errsz, "%s/%s: path too long", path, names[i]->d_name);
				rc = -ENAMETOOLONG;
			}
			if (!rc) {
				int k = parse_key_file(file, 1, add_cb, &fresh, err, errsz);
				if (k == 0) {
					seterr(err, errsz, "%s: no key in the file", file);
					k = -ENODATA;
				}
				rc = k < 0 ? k : 0;
			}
			free(names[i]);
		}
		free(names);
	} else {
		int k = parse_key_file(path, 0, add_cb, &fresh, err, errsz);
		rc = k < 0 ? k : 0;
	}
	if (rc) {
		bl_fw_allowlist_free(&fresh);
		return rc;
	}
	bl_fw_allowlist_free(al);
	*al = fresh;
	return 0;
}

int bl_fw_allowlist_copy(struct bl_fw_allowlist *dst, const struct bl_fw_allowlist *src)
{
	*dst = (struct bl_fw_allowlist){0};
	if (!src || !src->n)
		return 0;
	dst->keys = malloc(src->n * sizeof(*dst->keys));
	if (!dst->keys)
		return -ENOMEM;
	memcpy(dst->keys, src->keys, src->n * sizeof(*dst->keys));
	dst->n = dst->cap = src->n;
	return 0;
}

void bl_fw_allowlist_free(struct bl_fw_allowlist *al)
{
	free(al->keys);
	*al = (struct bl_fw_allowlist){0};
}
