/* escape.c: fixture: includes a header from outside the core's folder (must be reported). */
#include "../nonfree_outside.h"

int escape(void);

int escape(void)
{
	return NONFREE_OUTSIDE;
}
