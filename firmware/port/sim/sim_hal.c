/* sim_hal.c: the sim port's bl_hal_fault(): a fault recorder standing in for the safe state. */
#include "sim_hal.h"

static struct bl_fault faults[BL_SIM_HAL_FAULTS_MAX];
static size_t fault_count;
static bl_sim_fault_hook fault_hook;
static void *fault_hook_ctx;

void bl_sim_hal_reset(void)
{
	fault_count = 0;
	fault_hook = NULL;
	fault_hook_ctx = NULL;
}

void bl_sim_hal_set_hook(bl_sim_fault_hook hook, void *ctx)
{
	fault_hook = hook;
	fault_hook_ctx = ctx;
}

size_t bl_sim_hal_fault_count(void)
{
	return fault_count;
}

const struct bl_fault *bl_sim_hal_fault(size_t i)
{
	if (i >= fault_count || i >= BL_SIM_HAL_FAULTS_MAX)
		return NULL;
	return &faults[i];
}

void bl_hal_fault(const struct bl_fault *fault)
{
	if (fault_count < BL_SIM_HAL_FAULTS_MAX)
		faults[fault_count] = *fault;
	fault_count++;
	if (fault_hook)
		fault_hook(fault_hook_ctx, fault);
}
