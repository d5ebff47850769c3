/* fw_keys.h: CurveZMQ key files (a keypair as NAME.key + NAME.pub) and the allow-list of clients.
 */
#ifndef BL_FW_KEYS_H
#define BL_FW_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/fw_proto.h"

/*
 * Key files are text, one Z85 key (BL_FW_KEY_Z85_LEN = 40 characters) on a line, newline ended:
 *   NAME.pub   the public key, mode 0644: give it to the other side
 *   NAME.key   the secret key, mode 0600: the public key is derived from it when loaded
 * Loaders skip blank lines and '#' comments (whole-line, or after the key and a space; a Z85 key
 * never starts with '#' but may contain one).
 *
 * An allow-list is either a directory whose *.pub files each hold one key, or a single file with
 * one key per line. A malformed key is an error naming "file:line".
 *
 * Errors: negative errno; where a char *err buffer is taken it receives a one-line message
 * ("agents.txt:3: malformed key: 39 characters, expected 40"), so the caller logs it once.
 */

/* Writes a fresh keypair to PREFIX.key (0600) and PREFIX.pub; PREFIX is a path without suffix.
 * -EEXIST if either file exists (a controller's identity is never overwritten). The Z85 public
 * key is copied to public_z85 when not NULL. */
int bl_fw_keys_generate(const char *prefix, char public_z85[BL_FW_KEY_Z85_LEN + 1], char *err,
			size_t errsz);

/* Loads PREFIX.key (the secret key; the public key is derived from it). If PREFIX.pub exists, it
 * must hold the matching public key (-EINVAL otherwise). public_z85 may be NULL. */
int bl_fw_keys_load(const char *prefix, char public_z85[BL_FW_KEY_Z85_LEN + 1],
		    char secret_z85[BL_FW_KEY_Z85_LEN + 1], char *err, size_t errsz);

/* Loads the single key of a key file (.pub or .key) at PATH. */
int bl_fw_keys_load_one(const char *path, char z85[BL_FW_KEY_Z85_LEN + 1], char *err, size_t errsz);

/* True when TEXT is exactly BL_FW_KEY_Z85_LEN valid Z85 characters; the binary key goes to key. */
bool bl_fw_key_decode(const char *text, uint8_t key[32]);

/* Allowed client public keys (binary, 32 bytes each). */
struct bl_fw_allowlist {
	size_t n;
	size_t cap;
	uint8_t (*keys)[32];
};

/* Loads PATH (a directory of *.pub, or a key-per-line file) into AL (zeroed or loaded before):
 * on success the keys already there are replaced, on failure AL is left as it was. Duplicates are
 * kept once. An empty list is valid (nobody gets in). */
int bl_fw_allowlist_load(struct bl_fw_allowlist *al, const char *path, char *err, size_t errsz);

/* Adds one Z85 key (-EINVAL when malformed). AL must be zeroed or loaded before. */
int bl_fw_allowlist_add(struct bl_fw_allowlist *al, const char *z85);

bool bl_fw_allowlist_contains(const struct bl_fw_allowlist *al, const uint8_t key[32]);

/* Deep copy (DST is overwritten, not freed first). */
int bl_fw_allowlist_copy(struct bl_fw_allowlist *dst, const struct bl_fw_allowlist *src);

void bl_fw_allowlist_free(struct bl_fw_allowlist *al);

#endif
