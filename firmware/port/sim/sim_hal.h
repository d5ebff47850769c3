/* sim_hal.h: the sim port's HAL: records every fault the core reports so tests can check them. */
#ifndef BL_SIM_HAL_H
#define BL_SIM_HAL_H

#include <stddef.h>

#include "core/hal/bl_hal.h"

/* Faults kept for inspection; later ones are counted but not kept. */
#define BL_SIM_HAL_FAULTS_MAX 4096

/* Called for every fault as it is reported (e.g. to write it into a trace); NULL for none. */
typedef void (*bl_sim_fault_hook)(void *ctx, const struct bl_fault *fault);

/* Forgets recorded faults and removes the hook. */
void bl_sim_hal_reset(void);
void bl_sim_hal_set_hook(bl_sim_fault_hook hook, void *ctx);

/* Faults reported since the last reset (kept or not). */
size_t bl_sim_hal_fault_count(void);

/* The i-th fault since the last reset, or NULL if i is not kept. */
const struct bl_fault *bl_sim_hal_fault(size_t i);

#endif
