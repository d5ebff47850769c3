/* schema.h: table-driven conversion of a line-annotated YAML tree into C structs, with checks. */
#ifndef BL_SCHEMA_H
#define BL_SCHEMA_H

#include <stddef.h>

#include "bl_hwdb.h"
#include "ytree.h"

enum bl_ftype {
	BL_F_STR,    /* char[size] */
	BL_F_ESTR,   /* char[size], C escapes (\r \n \t \xNN) resolved */
	BL_F_INT,    /* int */
	BL_F_DOUBLE, /* double */
	BL_F_BOOL,   /* bool */
	BL_F_ENUM,   /* enum (or bool when .size is 1), names in .names */
	BL_F_DVEC,   /* .size doubles written as a flow sequence */
	BL_F_RANGE,  /* struct bl_range written as [min, max] */
	BL_F_STRUCT, /* nested mapping described by .sub */
	BL_F_ARRAY,  /* sequence; element described by .elem, count at .count_off, capacity .cap */
	BL_F_DICT,   /* mapping name -> value; element = {char name[BL_HWDB_NAME_MAX]; value at
			.elem->off} */
};

#define BL_F_REQUIRED 1u
#define BL_F_HAS      2u /* set the bool at .has_off when the key is present */

struct bl_schema;

struct bl_field {
	const char *key;
	enum bl_ftype type;
	size_t off;
	size_t size; /* STR/ESTR: buffer size; DVEC: number of doubles; ARRAY/DICT: element size */
	unsigned flags;
	double min, max;	  /* numeric bounds (min == max == 0: unbounded) */
	double def;		  /* default for numbers and enums when the key is absent */
	const char *defs;	  /* default for strings */
	const char *const *names; /* ENUM: NULL-terminated */
	const struct bl_schema *sub;
	const struct bl_field *elem;
	size_t count_off;
	size_t cap;
	size_t has_off;
};

struct bl_schema {
	const struct bl_field *fields;
	size_t nfields;
};

#define BL_SCHEMA(arr)                                                                             \
	{                                                                                          \
		arr, sizeof(arr) / sizeof((arr)[0])                                                \
	}

/* Error sink: appends "file:line: path: message" to ERRS. */
void bl_schema_error(struct bl_hwdb_errors *errs, const char *file, int line, const char *path,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Fills defaults of SCHEMA into OBJ, then converts mapping NODE into OBJ. PATH names NODE in
 * error messages ("" for the root). Returns the number of problems found (0 on success). */
int bl_schema_apply(const struct bl_schema *schema, const struct bl_ynode *node, void *obj,
		    const char *path, struct bl_hwdb_errors *errs);

/* As bl_schema_apply, but keeps what OBJ holds for keys NODE does not name. */
int bl_schema_apply_over(const struct bl_schema *schema, const struct bl_ynode *node, void *obj,
			 const char *path, struct bl_hwdb_errors *errs);

/* Fills only the defaults of SCHEMA into OBJ. */
void bl_schema_defaults(const struct bl_schema *schema, void *obj);

#endif
