/* bl_hal.h: the HAL of a deliberately non-freestanding fixture core for check_freestanding.sh. */
#ifndef NONFREE_HAL_H
#define NONFREE_HAL_H

void bl_hal_ok(void);

#endif
