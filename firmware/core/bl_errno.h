/* bl_errno.h: Linux errno values the freestanding core returns negated (no <errno.h> there). */
#ifndef BL_ERRNO_H
#define BL_ERRNO_H

/* Same numbers as Linux <errno.h>, so a hosted port can pass them on unchanged (tests compare). */
#define BL_ENOENT    2	 /* no such command (cancel), no outstanding request (sample FSM) */
#define BL_EIO	     5	 /* device error */
#define BL_E2BIG     7	 /* command time beyond the scheduling horizon */
#define BL_EAGAIN    11	 /* not yet: try again once the current step has finished */
#define BL_EBUSY     16	 /* re-entered from a callback; an interlock is still active */
#define BL_EINVAL    22	 /* bad argument or configuration, command not allowed now */
#define BL_ENOSPC    28	 /* queue full */
#define BL_ENODATA   61	 /* barcode: no read */
#define BL_ETIME     62	 /* too late: time already past, inside the minimum lead, or overdue */
#define BL_EBADMSG   74	 /* barcode: misread (check digit or format wrong) */
#define BL_ETIMEDOUT 110 /* a device did not answer within its timeout */
#define BL_EALREADY  114 /* already queued or handled */
#define BL_ECANCELED 125 /* operation cut by the emergency stop */
#define BL_ERANGE    34	 /* a value outside its configured limits (print recipe) */

#endif
