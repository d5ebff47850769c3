/* barcode_hid.c: USB HID keyboard-wedge scanners read through libusb (interrupt IN endpoint),
 * decoded by hid_decode. */
#include <errno.h>
#include <libusb.h>
#include <stdlib.h>
#include <string.h>

#include "barcode_priv.h"
#include "hid_decode.h"

#define RING 64

struct bl_hid_usb {
	libusb_context *ctx;
	libusb_device_handle *h;
	struct libusb_transfer *xfer;
	uint8_t buf[64];
	uint8_t ring[RING][9];
	size_t ring_len[RING];
	unsigned head, tail;
	int dead; /* transfer ended with an error: device gone */
	struct bl_hid_decoder dec;
};

static void LIBUSB_CALL on_report(struct libusb_transfer *t)
{
	struct bl_hid_usb *u = t->user_data;
	if (t->status == LIBUSB_TRANSFER_COMPLETED) {
		if (u->head - u->tail < RING && t->actual_length <= 9) {
			memcpy(u->ring[u->head % RING], t->buffer, (size_t)t->actual_length);
			u->ring_len[u->head % RING] = (size_t)t->actual_length;
			u->head++;
		}
		if (libusb_submit_transfer(t) == 0)
			return;
	} else if (t->status == LIBUSB_TRANSFER_TIMED_OUT) {
		if (libusb_submit_transfer(t) == 0)
			return;
	}
	u->dead = 1;
}

/* The first interrupt IN endpoint of interface 0. */
static int find_endpoint(libusb_device_handle *h, uint8_t *ep, int *size)
{
	struct libusb_config_descriptor *cfg;
	if (libusb_get_active_config_descriptor(libusb_get_device(h), &cfg))
		return -EIO;
	int rc = -ENODEV;
	if (cfg->bNumInterfaces > 0 && cfg->interface[0].num_altsetting > 0) {
		const struct libusb_interface_descriptor *alt = &cfg->interface[0].altsetting[0];
		for (int i = 0; i < alt->bNumEndpoints && rc; i++) {
			const struct libusb_endpoint_descriptor *e = &alt->endpoint[i];
			if ((e->bEndpointAddress & LIBUSB_ENDPOINT_IN) &&
			    (e->bmAttributes & 3) == LIBUSB_TRANSFER_TYPE_INTERRUPT) {
				*ep = e->bEndpointAddress;
				*size = e->wMaxPacketSize;
				rc = 0;
			}
		}
	}
	libusb_free_config_descriptor(cfg);
	return rc;
}

static void hid_close(struct bl_barcode *bc)
{
	struct bl_hid_usb *u = bc->usb;
	if (!u)
		return;
	if (u->xfer) {
		if (!u->dead && libusb_cancel_transfer(u->xfer) == 0) {
			struct timeval tv = {0, 100000};
			libusb_handle_events_timeout(u->ctx, &tv);
		}
		libusb_free_transfer(u->xfer);
	}
	if (u->h) {
		libusb_release_interface(u->h, 0);
		libusb_close(u->h);
	}
	if (u->ctx)
		libusb_exit(u->ctx);
	free(u);
	bc->usb = NULL;
}

static int hid_open(struct bl_barcode *bc)
{
	struct bl_hid_usb *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	bc->usb = u;
	bl_hid_decoder_init(&u->dec);
	int rc = -EIO;
	uint8_t ep;
	int size;
	if (libusb_init(&u->ctx))
		goto fail;
	u->h = libusb_open_device_with_vid_pid(u->ctx, (uint16_t)bc->dev.transport.usb_vid,
					       (uint16_t)bc->dev.transport.usb_pid);
	if (!u->h) {
		rc = -ENODEV;
		goto fail;
	}
	libusb_set_auto_detach_kernel_driver(u->h, 1); /* take it from the keyboard driver */
	if (libusb_claim_interface(u->h, 0)) {
		rc = -EBUSY;
		goto fail;
	}
	if ((rc = find_endpoint(u->h, &ep, &size)))
		goto fail;
	u->xfer = libusb_alloc_transfer(0);
	if (!u->xfer) {
		rc = -ENOMEM;
		goto fail;
	}
	libusb_fill_interrupt_transfer(u->xfer, u->h, ep, u->buf,
				       size < (int)sizeof(u->buf) ? size : (int)sizeof(u->buf),
				       on_report, u, 0);
	if (libusb_submit_transfer(u->xfer)) {
		rc = -EIO;
		goto fail;
	}
	return 0;
fail:
	hid_close(bc);
	return rc;
}

static int hid_poll(struct bl_barcode *bc, uint64_t now, struct bl_barcode_result *out)
{
	if (!bc->usb) {
		if (now < bc->retry_at)
			return -ENOTCONN;
		if (hid_open(bc)) {
			bc->backoff_ms = bc->backoff_ms * 2 > 5000 ? 5000 : bc->backoff_ms * 2;
			bc->retry_at = now + bc->backoff_ms;
			return -ENOTCONN;
		}
		bc->backoff_ms = 100;
	}
	struct bl_hid_usb *u = bc->usb;
	struct timeval zero = {0, 0};
	libusb_handle_events_timeout_completed(u->ctx, &zero, NULL);
	while (u->tail != u->head) {
		unsigned i = u->tail++ % RING;
		int rc = bl_hid_decoder_feed(&u->dec, u->ring[i], u->ring_len[i]);
		if (rc == 0 || rc == -EBADMSG)
			continue;
		bc->stats.reads++;
		return bl_barcode_result(bc, out, rc == 1 ? u->dec.line : NULL,
					 strlen(u->dec.line));
	}
	if (u->dead) {
		hid_close(bc);
		bc->stats.disconnects++;
		bc->retry_at = now + bc->backoff_ms;
		return -ECONNRESET;
	}
	return 0;
}

/* A keyboard-wedge scanner reads when its own trigger is pulled: no software trigger. */
const struct bl_barcode_ops bl_barcode_hid_ops = {
    .name = "barcode-hid",
    .open = hid_open,
    .close = hid_close,
    .trigger = NULL,
    .poll = hid_poll,
};
