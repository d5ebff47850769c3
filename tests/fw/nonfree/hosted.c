/* hosted.c: fixture: includes a hosted header, which a freestanding core may not. */
#include <stdio.h>

int hosted(void);

int hosted(void)
{
	return EOF;
}
