/* mb_value.h: engineering value <-> Modbus register words for an hwdb register (type, word order,
 * scale, offset). */
#ifndef BL_MB_VALUE_H
#define BL_MB_VALUE_H

#include <stdint.h>

#include "bl_hwdb.h"

/* Registers the value occupies: 2 for 32-bit types, 1 otherwise (bits count as 1). */
int bl_mb_reg_words(const struct bl_hwdb_register *r);

/* Engineering value from raw words (W[0] at the register's address). */
double bl_mb_decode(const struct bl_hwdb_register *r, const uint16_t w[2]);

/* Raw words for engineering value V. Returns 0, or -ERANGE when V does not fit the type. */
int bl_mb_encode(const struct bl_hwdb_register *r, double v, uint16_t w[2]);

#endif
