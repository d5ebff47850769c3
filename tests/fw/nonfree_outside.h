/* nonfree_outside.h: fixture: a header outside the fixture core, wrongly included by escape.c. */
#define NONFREE_OUTSIDE 1
