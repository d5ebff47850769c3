/* bl_errno.h: Linux errno values the freestanding core returns negated (no <errno.h> there). */
#ifndef BL_ERRNO_H
#define BL_ERRNO_H

/* Same numbers as Linux <errno.h>, so a hosted port can pass them on unchanged (tests compare). */
#define BL_ENOENT 2  /* no such command (cancel) */
#define BL_E2BIG  7  /* command time beyond the scheduling horizon */
#define BL_EBUSY  16 /* scheduler run re-entered from a callback */
#define BL_EINVAL 22 /* bad argument or configuration */
#define BL_ENOSPC 28 /* queue full */
#define BL_ETIME  62 /* too late: time already past, inside the minimum lead, or overdue */

#endif
