/* agent_space.c: disk space for the agent's files: a reserve file given back when the disk
 * fills, so the failing file can still be closed valid, and no new series while space is low. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent_int.h"

#define RESERVE_DEFAULT	 (8u << 20)  /* bytes: HDF5's last metadata of a big file fits */
#define MIN_FREE_DEFAULT (64u << 20) /* bytes free below which a new series is refused */

static uint64_t reserve_bytes(const struct bl_agent *a)
{
	return a->cfg.reserve_bytes ? a->cfg.reserve_bytes : RESERVE_DEFAULT;
}

static uint64_t free_bytes(const struct bl_agent *a)
{
	struct statvfs v;
	if (statvfs(a->out_dir, &v))
		return UINT64_MAX; /* cannot tell: do not refuse on that */
	return (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
}

/* Creates the reserve file when it is missing and there is room for it and the minimum. */
static void make_reserve(struct bl_agent *a)
{
	if (a->reserve_held)
		return;
	uint64_t need = reserve_bytes(a), min = a->cfg.min_free_bytes ?: MIN_FREE_DEFAULT;
	if (free_bytes(a) < need + min)
		return;
	int fd = open(a->reserve_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	/* posix_fallocate really takes the blocks (a sparse file would give nothing back) */
	int rc = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)need);
	if (fd >= 0)
		close(fd);
	if (rc) {
		unlink(a->reserve_path);
		agent_log(a, "disk: no reserve file %s (%s)", a->reserve_path, strerror(rc));
		return;
	}
	a->reserve_held = true;
}

int agent_space_init(struct bl_agent *a)
{
	if ((size_t)snprintf(a->reserve_path, sizeof(a->reserve_path), "%s/.beamloop-reserve",
			     a->out_dir) >= sizeof(a->reserve_path))
		return -ENAMETOOLONG;
	unlink(a->reserve_path); /* one left by an agent that crashed: made anew */
	make_reserve(a);
	return 0;
}

void agent_space_release(struct bl_agent *a)
{
	if (!a->reserve_held)
		return;
	unlink(a->reserve_path);
	a->reserve_held = false;
	a->c.reserve_released++;
	agent_log(a, "disk: full; the reserve (%llu bytes) is given back so the file closes valid",
		  (unsigned long long)reserve_bytes(a));
}

bool agent_space_accept(struct bl_agent *a)
{
	make_reserve(a);
	uint64_t min = a->cfg.min_free_bytes ?: MIN_FREE_DEFAULT, fb = free_bytes(a);
	if (fb < min || !a->reserve_held) { /* without the reserve a full disk would cost a file */
		agent_log(a,
			  "disk: %llu bytes free in %s (needs %llu and a reserve of %llu): the "
			  "series is not stored",
			  (unsigned long long)fb, a->out_dir, (unsigned long long)min,
			  (unsigned long long)reserve_bytes(a));
		return false;
	}
	return true;
}

void agent_space_close(struct bl_agent *a)
{
	if (a->reserve_held)
		unlink(a->reserve_path);
	a->reserve_held = false;
}
