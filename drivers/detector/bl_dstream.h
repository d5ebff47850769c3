/* bl_dstream.h: Dectris stream v1 frames: pixel encodings, message builders and the checking
 * consumer (ZMQ PULL) that checks every part of every series. */
#ifndef BL_DSTREAM_H
#define BL_DSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pixel types: the value is the element size in bytes. */
enum bl_dtype { BL_DTYPE_UINT16 = 2, BL_DTYPE_UINT32 = 4 };

/* Data-part encodings ("encoding" of dimage_d-1.0). */
enum bl_denc {
	BL_DENC_RAW,	  /* "": little-endian pixels */
	BL_DENC_LZ4,	  /* "lz4<": one LZ4 block of the whole image */
	BL_DENC_BS16_LZ4, /* "bs16-lz4<": bitshuffle + LZ4 of 16-bit pixels */
	BL_DENC_BS32_LZ4, /* "bs32-lz4<": bitshuffle + LZ4 of 32-bit pixels */
};

#define BL_DSTREAM_MAX_PIXELS (16u * 1024u * 1024u) /* larger shapes are rejected */
#define BL_DSTREAM_MAX_PARTS  8

const char *bl_denc_name(enum bl_denc e);
int bl_denc_parse(const char *s, enum bl_denc *e); /* 0 or -EINVAL */
const char *bl_dtype_name(enum bl_dtype t);
int bl_dtype_parse(const char *s, enum bl_dtype *t); /* 0 or -EINVAL */
/* "bslz4" picks bs16/bs32 from the type; "lz4" and "none"/"" map directly. 0 or -EINVAL. */
int bl_denc_from_compression(const char *compression, enum bl_dtype t, enum bl_denc *e);

/* --- codec (stream_codec.c) --- */

/* Bytes an encoded image of NELEM elements of ELEM bytes can take at most. */
size_t bl_dcodec_bound(enum bl_denc e, size_t nelem, size_t elem);
/* Encodes PIX into OUT (CAP bytes, at least bl_dcodec_bound); *LEN gets the size. 0, -EINVAL
 * (encoding does not fit the element size), -ENOBUFS, -EIO (library failure). */
int bl_dcodec_encode(enum bl_denc e, const void *pix, size_t nelem, size_t elem, void *out,
		     size_t cap, size_t *len);
/* Decodes IN (LEN bytes) into exactly NELEM*ELEM bytes at PIX, never reading or writing outside
 * the buffers whatever IN holds. SCRATCH (SCRATCH_CAP bytes) holds one bitshuffle block.
 * 0, -EINVAL (encoding/element size), -ENODATA (input ends early), -EBADMSG (corrupt, or
 * decodes to another size), -ENOBUFS (block larger than SCRATCH). PIX NULL (bitshuffle-LZ4
 * only, else -EINVAL): the same checks at the same cost, every block decompressed into SCRATCH,
 * but no bit transpose and nothing written. */
int bl_dcodec_decode(enum bl_denc e, const void *in, size_t len, void *pix, size_t nelem,
		     size_t elem, void *scratch, size_t scratch_cap);
/* Scratch a bitshuffle block of the sizes this decoder accepts needs. */
#define BL_DCODEC_SCRATCH (1u << 20)

/* Lower-case hex MD5 of P (libmd). */
void bl_md5_hex(const void *p, size_t n, char hex[33]);

/* --- message parts (stream_msg.c); each returns the length written or -ENOBUFS --- */

int bl_dmsg_header(char *buf, size_t cap, uint64_t series, const char *detail);
int bl_dmsg_image(char *buf, size_t cap, uint64_t series, uint64_t frame, const char *hash);
int bl_dmsg_image_d(char *buf, size_t cap, int width, int height, enum bl_dtype t, enum bl_denc e,
		    size_t size);
int bl_dmsg_config(char *buf, size_t cap, uint64_t start_ns, uint64_t stop_ns, uint64_t real_ns);
int bl_dmsg_end(char *buf, size_t cap, uint64_t series);

/* --- consumer (stream_consumer.c, stream_zmq.c) --- */

struct bl_dpart {
	const void *data;
	size_t size;
};

/* What the consumer has seen and rejected, since it was created. */
struct bl_dstream_counters {
	uint64_t series;     /* dheader-1.0 accepted */
	uint64_t ended;	     /* dseries_end-1.0 accepted */
	uint64_t incomplete; /* series that ended (or were replaced) with frames missing */
	uint64_t frames;     /* images decoded and delivered */
	uint64_t gaps;	     /* jumps in the frame numbers */
	uint64_t missing;    /* frames those jumps skipped, plus frames never sent before the end */
	uint64_t late;	     /* frames whose start_time lags the frame_time schedule */
	uint64_t rejected;   /* messages rejected (the sum of the reasons below) */
	uint64_t bad_htype;  /* unknown/wrong htype, wrong number of parts */
	uint64_t bad_json;   /* a JSON part that does not parse or lacks a field */
	uint64_t bad_shape;  /* shape/type/encoding invalid, inconsistent, or too large */
	uint64_t bad_size;   /* data part longer than "size", or raw size != shape */
	uint64_t truncated;  /* data part shorter than "size", or the encoding ends early */
	uint64_t bad_hash;   /* md5 of the data part differs from "hash" */
	uint64_t bad_data;   /* decompression failed */
	uint64_t duplicates; /* a frame number already delivered in this series */
	uint64_t stale;	     /* an image of a series that is not open (e.g. after an abort) */
	uint64_t unannounced; /* dseries_end of a series that is not open */
};

enum bl_dstream_kind {
	BL_DS_HEADER = 1, /* a series started */
	BL_DS_FRAME,	  /* a frame decoded into the buffer */
	BL_DS_END,	  /* a series ended */
	BL_DS_REJECT,	  /* a message was rejected: rc and error say why */
};

struct bl_dstream_event {
	enum bl_dstream_kind kind;
	int rc;		 /* REJECT: -EPROTO (htype/parts), -EBADMSG (JSON, data), -EINVAL (shape),
			    -EMSGSIZE (size), -ENODATA (truncated), -EILSEQ (hash), -EALREADY
			    (duplicate), -ESTALE (stale), -ENOBUFS (buffer too small) */
	char error[200]; /* REJECT: what was wrong */
	uint64_t series;
	/* HEADER: from the detector-config part, 0/"" where absent (header_detail "none") */
	char detail[8];
	bool has_config;
	uint64_t nimages, ntrigger;
	double frame_time, count_time;
	char trigger_mode[8];
	int config_width, config_height;
	/* FRAME */
	uint64_t frame;
	int width, height;
	enum bl_dtype type;
	enum bl_denc encoding;
	const void *pixels; /* in the series buffer: valid until the next call. NULL when the
			       decode mode skipped the decode (bl_dstream_set_decode) */
	size_t pixel_bytes;
	const void *encoded; /* the data part as it came (encoding above): valid until the next
				call, like pixels (bl_dstream_feed: the caller's part) */
	size_t encoded_bytes;
	bool hash_checked;
	uint64_t missing_before; /* frames skipped just before this one */
	bool late;
	uint64_t start_ns, stop_ns, real_ns;
	/* END: frames delivered, frames missing (gaps and the unsent tail), frames the header
	 * announced (0: unknown) */
	uint64_t frames, missing, expected;
	bool complete;
};

struct bl_dstream;

/* A consumer with no socket yet (bl_dstream_feed works at once). 0 or -ENOMEM. */
int bl_dstream_new(struct bl_dstream **out);
void bl_dstream_free(struct bl_dstream *s);
/* Decode into BUF (CAP bytes) instead of a buffer the consumer allocates at the start of each
 * series that needs a larger one. Frames that do not fit are rejected with -ENOBUFS. */
void bl_dstream_set_buffer(struct bl_dstream *s, void *buf, size_t cap);
/* How much of each data part the consumer decodes. Whatever the mode, every other check (sizes,
 * bitshuffle framing, md5 when a hash is sent) is made. A frame whose md5 matches its hash is byte
 * for byte what the detector sent, so decoding it only to check it is redundant; a frame without
 * a hash can only be checked by decoding it, so it always is: a garbled one is rejected.
 *  FULL (default): every frame decoded into the series buffer; pixels set.
 *  VERIFY: bitshuffle-LZ4 frames are walked and every LZ4 block decompressed into a scratch
 *          block (the decode's cost, without the bit transpose), pixels NULL.
 *  NONE:   as VERIFY for a bitshuffle-LZ4 frame without a hash; one whose md5 matches is not
 *          decompressed at all (pixels NULL).
 * lz4< frames (one LZ4 block: their check is their decode) are decoded in every mode, pixels set;
 * raw frames need no decode: in VERIFY and NONE their pixels are the data part itself (no copy,
 * valid as long as `encoded`). For a caller that stores bitshuffle-LZ4 parts as they came. */
enum bl_ds_decode { BL_DS_DECODE_FULL, BL_DS_DECODE_VERIFY, BL_DS_DECODE_NONE };
void bl_dstream_set_decode(struct bl_dstream *s, enum bl_ds_decode mode);
/* Checks one multipart message and reports it in *EV (always one event). Returns 1. */
int bl_dstream_feed(struct bl_dstream *s, const struct bl_dpart *parts, size_t nparts,
		    struct bl_dstream_event *ev);
const struct bl_dstream_counters *bl_dstream_counters(const struct bl_dstream *s);

/* Connects a ZMQ PULL socket to ENDPOINT (e.g. the hwdb device's `stream`). 0 or -errno. */
int bl_dstream_connect(struct bl_dstream *s, const char *endpoint);
/* Waits up to TIMEOUT_MS (0: not at all, -1: forever) for one message and feeds it. 1 with an
 * event, 0 when none came, -ENOTCONN without a socket, -errno from ZMQ. */
int bl_dstream_poll(struct bl_dstream *s, int timeout_ms, struct bl_dstream_event *ev);

#endif
