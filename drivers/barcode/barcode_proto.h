/* barcode_proto.h: the serial barcode reader's wire protocol and code validation, shared by driver
 * and simulator. */
#ifndef BL_BARCODE_PROTO_H
#define BL_BARCODE_PROTO_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "bl_hwdb.h"

#define BL_BARCODE_MAX 128

enum bl_bc_status {
	BL_BC_OK,      /* a code that passes pattern and check digit */
	BL_BC_NOREAD,  /* the reader saw no code (its no-read token) */
	BL_BC_MISREAD, /* the reader sent something that is not a valid code */
};

/* What a valid code looks like at this beamline (from hwdb: barcode model + barcode section). */
struct bl_bc_rules {
	char no_read[16];
	size_t max_len;
	bool has_pattern;
	regex_t pattern;
	enum bl_check_digit check;
};

/* Compiles rules from hwdb. Returns 0 or -EINVAL (bad pattern). Free with bl_bc_rules_free. */
int bl_bc_rules_init(struct bl_bc_rules *r, const struct bl_hwdb_barcode_model *m,
		     const struct bl_hwdb_barcode *cfg);
void bl_bc_rules_free(struct bl_bc_rules *r);

/* Classifies one reply line (terminator removed). For BL_BC_OK the code is copied into CODE;
 * for BL_BC_MISREAD, WHY says what was wrong ("check digit", "pattern", "length", "bytes"). */
enum bl_bc_status bl_bc_classify(const struct bl_bc_rules *r, const char *line, size_t len,
				 char code[BL_BARCODE_MAX], const char **why);

/* Check digits. Return true if CODE (whose last character is the check character) is valid.
 * mod10: GS1 weighting (3,1,3,... from the right) over the digits of the code, letters ignored.
 * mod43: Code 39 check character over the 43-character Code 39 set. */
bool bl_bc_check_mod10(const char *code);
bool bl_bc_check_mod43(const char *code);

/* Appends the GS1 mod-10 check digit to DIGITS-carrying CODE (buffer of CAP bytes). */
int bl_bc_append_mod10(char *code, size_t cap);

/* The barcode the virtual pucks carry at PUCK/SLOT: "BL" + 6 digits + mod-10 check digit. */
void bl_bc_sim_code(int puck, int slot, char out[16]);

/* Splits a byte stream into lines at a terminator, resynchronising after overlong input. */
struct bl_bc_lines {
	char buf[BL_BARCODE_MAX * 2];
	size_t len;
	bool overflow; /* dropping bytes until the next terminator */
	char term[8];
	size_t max_len;
};

void bl_bc_lines_init(struct bl_bc_lines *l, const char *term, size_t max_len);

/* Feeds one byte. Returns 1 when a line is complete (in l->buf, NUL-terminated, length *LEN),
 * -EMSGSIZE when an overlong line has just been dropped, 0 otherwise. */
int bl_bc_lines_feed(struct bl_bc_lines *l, char c, size_t *len);

#endif
