/* peer_io.h: what the pyFAI peer tests share: their xorshift numbers, the Pilatus-like test
 * frame (powder ring, dark, flat, static mask, module gaps and bad pixels for the dynamic mask)
 * and the files they hand the peer script. */
#ifndef BL_PEER_IO_H
#define BL_PEER_IO_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Uniform in [0, 1) from xorshift32 state *S. */
static inline double peer_uni(unsigned *s)
{
	*s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
	return *s / 4294967296.0;
}

/* Writes N bytes of BUF to DIR/caseK_WHAT.bin. 0 or -1. */
static inline int peer_write(const char *dir, int k, const char *what, const void *buf, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/case%d_%s.bin", dir, k, what);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(buf, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

/* DIR/caseK_{frame,dark,flat,mask}.bin for an NR x NC frame. 0 or -1. */
static inline int peer_write_frame(const char *dir, int k, int nr, int nc, const float *frame,
				   const float *dark, const float *flat, const uint8_t *mask)
{
	size_t n = (size_t)nr * (size_t)nc;
	return peer_write(dir, k, "frame", frame, n * 4) ||
		       peer_write(dir, k, "dark", dark, n * 4) ||
		       peer_write(dir, k, "flat", flat, n * 4) ||
		       peer_write(dir, k, "mask", mask, n)
		   ? -1
		   : 0;
}

/* The mean counts of the test frame at R pixels from the beam: 1/r background and a ring. */
static inline double peer_mean(double r)
{
	return 20 + 5000 / (1 + r / 40) + 3000 * exp(-pow((r - 250) / 6, 2));
}

/* Pilatus module gaps (read -1). */
static inline int peer_gap(int i, int j)
{
	return i % 212 >= 195 || j % 494 >= 487;
}

/* The 1D/2D peer frame of NR x NC around beam centre (BCX, BCY): counts spread about the mean
 * like Poisson, dark, flat, static mask, gaps (-1) and bad pixels (-2), drawn from *S. */
static inline void peer_frame(int nr, int nc, double bcx, double bcy, unsigned *s, float *frame,
			      float *dark, float *flat, uint8_t *mask)
{
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nc; j++) {
			size_t x = (size_t)i * nc + j;
			double mean = peer_mean(hypot(i - bcy, j - bcx));
			dark[x] = (float)(5 + 2 * peer_uni(s));
			flat[x] = (float)(0.9 + 0.2 * peer_uni(s));
			frame[x] = (float)floor(dark[x] + mean +
						sqrt(mean) * 2 * (peer_uni(s) - 0.5) * 1.7);
			mask[x] = (i > 400 && i < 420 && j > 100 && j < 600) || x % 97 == 0;
			if (peer_gap(i, j))
				frame[x] = -1; /* module gaps, dynamic mask */
			if (x % 1009 == 5)
				frame[x] = -2; /* bad pixels, dynamic mask */
		}
}

#endif
