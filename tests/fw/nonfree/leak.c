/* leak.c: fixture: calls the HAL (allowed) and memset (not in the HAL: must be reported). */
#include <stddef.h>

#include "hal/bl_hal.h"

void *memset(void *s, int c, size_t n);
void leak(char *p, size_t n);

void leak(char *p, size_t n)
{
	memset(p, 0, n);
	bl_hal_ok();
}
