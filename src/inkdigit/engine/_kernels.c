/* Compiled kernels for preprocessing's hot loops, with the same numbers as the NumPy code they
 * replace (which stays, as the reference and as the fallback where this does not build).
 *
 * Why C: a canvas drawing is preprocessed in ~0.25 ms, and most of that is the per-call overhead
 * of dozens of small NumPy / Pillow operations on images of a few thousand pixels, not arithmetic.
 * These loops do the same arithmetic in the same order, in double precision where the reference
 * does, so results agree bit for bit (resize: Pillow's own loops; shear: the NumPy expression).
 * Built with -ffp-contract=off: a fused multiply-add would round differently.
 *
 * Arrays cross as buffers (no NumPy C API, so no NumPy at build time): float32, C-contiguous,
 * shapes passed alongside and checked against the buffer sizes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- resize: Pillow's BOX / BILINEAR resampling of a mode-F image (libImaging/Resample.c) ---- */

static double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

static double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Pillow's precompute_coeffs for a box covering the whole input: bounds (xmin, count) per output
 * sample and ksize weights each; returns ksize, or -1 when out of memory. */
static int precompute_coeffs(int in_size, int out_size, int bilinear, int **bounds_out, double **kk_out) {
    double (*filter)(double) = bilinear ? bilinear_filter : box_filter;
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = (bilinear ? 1.0 : 0.5) * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *kk = malloc((size_t)out_size * ksize * sizeof(double));
    int *bounds = malloc((size_t)out_size * 2 * sizeof(int));
    if (!kk || !bounds) {
        free(kk);
        free(bounds);
        return -1;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = 0.0 + (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = &kk[xx * ksize];
        int x;
        for (x = 0; x < xmax; x++) {
            double w = filter((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++) {
            if (ww != 0.0) k[x] /= ww;
        }
        for (; x < ksize; x++) k[x] = 0;
        bounds[xx * 2 + 0] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    *bounds_out = bounds;
    *kk_out = kk;
    return ksize;
}

/* Pillow's ImagingResampleVertical_32bpc: output row yy from input rows bounds[2yy] - first on */
static void resample_vertical(const float *in, int first, float *out, int oh, int ow, const int *bounds,
                              const double *kk, int ksize) {
    for (int yy = 0; yy < oh; yy++) {
        int ymin = bounds[yy * 2] - first, ymax = bounds[yy * 2 + 1];
        const double *k = &kk[yy * ksize];
        float *orow = out + (size_t)yy * ow;
        for (int xx = 0; xx < ow; xx++) {
            double ss = 0.0;
            for (int y = 0; y < ymax; y++) ss += in[(size_t)(y + ymin) * ow + xx] * k[y];
            orow[xx] = (float)ss;
        }
    }
}

static PyObject *resize(PyObject *self, PyObject *args) {
    Py_buffer src, dst;
    int h, w, oh, ow, bilinear;
    if (!PyArg_ParseTuple(args, "y*iiw*iip", &src, &h, &w, &dst, &oh, &ow, &bilinear)) return NULL;
    PyObject *result = NULL;
    int *bh = NULL, *bv = NULL;
    double *kh = NULL, *kv = NULL;
    float *tmp = NULL;
    if (h < 1 || w < 1 || oh < 1 || ow < 1 || src.len != (Py_ssize_t)h * w * 4 ||
        dst.len != (Py_ssize_t)oh * ow * 4) {
        PyErr_SetString(PyExc_ValueError, "resize: buffer sizes do not match the shapes");
        goto done;
    }
    const float *in = src.buf;
    float *out = dst.buf;
    int ksh = precompute_coeffs(w, ow, bilinear, &bh, &kh);
    int ksv = precompute_coeffs(h, oh, bilinear, &bv, &kv);
    if (ksh < 0 || ksv < 0) {
        PyErr_NoMemory();
        goto done;
    }
    int need_h = ow != w, need_v = oh != h;
    /* the vertical pass reads input rows first..last; the horizontal one makes only those */
    int first = need_v ? bv[0] : 0;
    int last = need_v ? bv[oh * 2 - 2] + bv[oh * 2 - 1] : h;
    const float *vin = in;
    if (need_h) {
        float *hout = need_v ? (tmp = malloc((size_t)(last - first) * ow * sizeof(float))) : out;
        if (!hout) {
            PyErr_NoMemory();
            goto done;
        }
        for (int yy = first; yy < last; yy++) {  /* Pillow's ImagingResampleHorizontal_32bpc */
            const float *row = in + (size_t)yy * w;
            float *orow = hout + (size_t)(yy - first) * ow;
            for (int xx = 0; xx < ow; xx++) {
                int xmin = bh[xx * 2], xmax = bh[xx * 2 + 1];
                const double *k = &kh[xx * ksh];
                double ss = 0.0;
                for (int x = 0; x < xmax; x++) ss += row[x + xmin] * k[x];
                orow[xx] = (float)ss;
            }
        }
        vin = hout;
    } else {
        first = 0;  /* the vertical pass reads the input itself, whose width is already ow */
    }
    if (need_v)
        resample_vertical(vin, first, out, oh, ow, bv, kv, ksv);
    else if (!need_h)
        memcpy(out, in, (size_t)h * w * sizeof(float));
    result = Py_None;
    Py_INCREF(result);
done:
    free(bh);
    free(bv);
    free(kh);
    free(kv);
    free(tmp);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return result;
}

/* ---- shear: preprocess._shift_rows, the horizontal shear of deskewing ---- */

static PyObject *shift_rows(PyObject *self, PyObject *args) {
    Py_buffer src, dst, shifts;
    int h, w, ow;
    if (!PyArg_ParseTuple(args, "y*iiw*iy*", &src, &h, &w, &dst, &ow, &shifts)) return NULL;
    PyObject *result = NULL;
    if (h < 1 || w < 1 || ow < 1 || src.len != (Py_ssize_t)h * w * 4 || dst.len != (Py_ssize_t)h * ow * 4 ||
        shifts.len != (Py_ssize_t)h * 8) {
        PyErr_SetString(PyExc_ValueError, "shift_rows: buffer sizes do not match the shapes");
        goto done;
    }
    const float *in = src.buf;
    const double *shift = shifts.buf;
    float *out = dst.buf;
    for (int y = 0; y < h; y++) {
        const float *row = in + (size_t)y * w;
        float *orow = out + (size_t)y * ow;
        double left = floor(shift[y]);
        double frac = shift[y] - left;
        long first = (long)left;
        for (int x = 0; x < ow; x++) {
            long j = first + x;
            if (frac > 0 && (j == -1 || j == w - 1)) {  /* a sample just past an edge: 0, as ndimage */
                orow[x] = 0.0f;
                continue;
            }
            double v0 = (j >= 0 && j < w) ? row[j] : 0.0;
            double v1 = (j + 1 >= 0 && j + 1 < w) ? row[j + 1] : 0.0;
            orow[x] = (float)(v0 * (1.0 - frac) + v1 * frac);
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    PyBuffer_Release(&shifts);
    return result;
}

/* ---- alpha_ink: preprocess.ink_map's transparent-canvas path, with _normalise ---- */

/* The ink strength of alpha byte b is (float)b * (float)(1/255), as NumPy computes it, and that
 * map is monotonic: every order statistic of strengths is the strength of the same order
 * statistic of bytes. So _normalise's quantiles come exactly from 256-bin histograms, and its
 * output is a 256-entry lookup table applied to the digit's box. */

/* First and last x of row[0..w) with a byte >= thr (thr >= 1); 0 if there is none. Rows of a
 * canvas are mostly transparent, so the scans skip zeros eight bytes at a time. */
static int row_extent(const unsigned char *row, int w, int thr, int *first, int *last) {
    int x = 0;
    uint64_t word;
    for (;;) {
        while (x + 8 <= w) {
            memcpy(&word, row + x, 8);
            if (word) break;
            x += 8;
        }
        int end = x + 8 < w ? x + 8 : w;
        while (x < end && row[x] < thr) x++;
        if (x < end || x == w) break;
    }
    if (x == w) return 0;
    *first = x;
    x = w - 1;
    for (;;) {
        while (x - 7 > *first) {
            memcpy(&word, row + x - 7, 8);
            if (word) break;
            x -= 8;
        }
        int end = x - 8 > *first ? x - 8 : *first;
        while (x > end && row[x] < thr) x--;
        if (x > end || row[x] >= thr) break;
    }
    *last = x;
    return 1;
}

static int order_stat(const Py_ssize_t hist[256], Py_ssize_t n, double q) {
    /* the byte at sorted position (Py_ssize_t)(q * (n - 1)) of the n counted in hist */
    Py_ssize_t i = (Py_ssize_t)(q * (double)(n - 1)), seen = 0;
    for (int b = 0; b < 256; b++) {
        seen += hist[b];
        if (seen > i) return b;
    }
    return 255;
}

typedef struct {
    float dev;
    Py_ssize_t count;
} DevCount;

static int by_dev(const void *a, const void *b) {
    float x = ((const DevCount *)a)->dev, y = ((const DevCount *)b)->dev;
    return (x > y) - (x < y);
}

static PyObject *alpha_ink(PyObject *self, PyObject *args) {
    Py_buffer src;
    int h, w;
    double min_contrast;
    if (!PyArg_ParseTuple(args, "y*iid", &src, &h, &w, &min_contrast)) return NULL;
    PyObject *result = NULL;
    if (h < 1 || w < 1 || src.len != (Py_ssize_t)h * w) {
        PyErr_SetString(PyExc_ValueError, "alpha_ink: buffer size does not match the shape");
        goto done;
    }
    const unsigned char *a = src.buf;
    /* the box of every pixel with any opacity (_bbox(alpha8, 0)) */
    int y0 = h, y1 = -1, x0 = w, x1 = -1;
    for (int y = 0; y < h; y++) {
        int first, last;
        if (row_extent(a + (size_t)y * w, w, 1, &first, &last)) {
            if (y < y0) y0 = y;
            y1 = y;
            if (first < x0) x0 = first;
            if (last > x1) x1 = last;
        }
    }
    if (y1 < 0) {  /* fully transparent: blank */
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    y1++, x1++;
    int bh = y1 - y0, bw = x1 - x0;
    Py_ssize_t n = (Py_ssize_t)h * w, opaque = 0, solid = 0;
    int peak_b = 0;
    for (int y = y0; y < y1; y++) {
        const unsigned char *row = a + (size_t)y * w + x0;
        unsigned int o = 0, s = 0;
        unsigned char m = 0;
        for (int x = 0; x < bw; x++) {  /* branch-free, so the compiler vectorises it */
            o += row[x] >> 7;
            s += row[x] > 128;
            m = row[x] > m ? row[x] : m;
        }
        opaque += o, solid += s;
        if (m > peak_b) peak_b = m;
    }
    if (!((double)(n - opaque) > 0.02 * (double)n && (double)solid < 0.5 * (double)n)) {
        result = Py_False;  /* not a transparent canvas: the caller reads the colours */
        Py_INCREF(result);
        goto done;
    }
    float strength[256];
    const float k255 = (float)(1.0 / 255.0);
    for (int b = 0; b < 256; b++) strength[b] = (float)b * k255;

    /* _normalise on the box: statistics from every step-th row and column */
    Py_ssize_t size = (Py_ssize_t)bh * bw;
    int step = (int)sqrt((double)size / 4096.0);
    if (step < 1) step = 1;
    Py_ssize_t hist[256] = {0}, ns = 0;
    for (int y = y0; y < y1; y += step) {
        const unsigned char *row = a + (size_t)y * w;
        for (int x = x0; x < x1; x += step) {
            hist[row[x]]++;
            ns++;
        }
    }
    double peak = strength[peak_b];
    double top = ns > 400 ? (double)strength[order_stat(hist, ns, 0.997)] : peak;
    if (0.5 * peak > top) top = 0.5 * peak;
    if (top < min_contrast) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    /* background-like samples (below a quarter of the top, compared in float32): their spread */
    const float quiet_below = (float)(0.25 * top);
    Py_ssize_t quiet[256] = {0}, nq = 0, nq_inked = 0;
    for (int b = 0; b < 256 && strength[b] < quiet_below; b++) {
        quiet[b] = hist[b];
        nq += hist[b];
        if (b) nq_inked += hist[b];
    }
    double floor_ = 0.18 * top;
    if (nq && nq_inked) {
        int med_b = order_stat(quiet, nq, 0.5);
        float med = strength[med_b];
        DevCount devs[256];
        int nd = 0;
        for (int b = 0; b < 256; b++) {
            if (!quiet[b]) continue;
            devs[nd].dev = fabsf(strength[b] - med);
            devs[nd].count = quiet[b];
            nd++;
        }
        qsort(devs, nd, sizeof(DevCount), by_dev);
        Py_ssize_t i = (Py_ssize_t)(0.5 * (double)(nq - 1)), seen = 0;
        float mad = devs[nd - 1].dev;
        for (int d = 0; d < nd; d++) {
            seen += devs[d].count;
            if (seen > i) {
                mad = devs[d].dev;
                break;
            }
        }
        double noise = (double)med + 6.0 * 1.4826 * (double)mad;
        if (noise > floor_) floor_ = noise;
    }
    if (floor_ >= top * 0.9) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    /* the box of the pixels above the floor (compared in float32), widened by one pixel */
    const float floor32 = (float)floor_;
    int above = 256;
    for (int b = 0; b < 256; b++) {
        if (strength[b] > floor32) {
            above = b;
            break;
        }
    }
    int ry0 = bh, ry1 = -1, rx0 = bw, rx1 = -1;
    if (above < 256) {
        for (int y = 0; y < bh; y++) {
            int first, last;
            if (row_extent(a + (size_t)(y + y0) * w + x0, bw, above, &first, &last)) {
                if (y < ry0) ry0 = y;
                ry1 = y;
                if (first < rx0) rx0 = first;
                if (last > rx1) rx1 = last;
            }
        }
    }
    if (ry1 < 0) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    ry0 = ry0 > 0 ? ry0 - 1 : 0;
    rx0 = rx0 > 0 ? rx0 - 1 : 0;
    ry1 = ry1 + 2 < bh ? ry1 + 2 : bh;
    rx1 = rx1 + 2 < bw ? rx1 + 2 : bw;
    int rh = ry1 - ry0, rw = rx1 - rx0;
    /* np.clip((region - floor) / (top - floor), 0, 1), each step in float32 as NumPy does it */
    const float span = (float)(top - floor_);
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)rh * rw * 4);
    if (!out) goto done;
    float *o = (float *)PyByteArray_AS_STRING(out);
    for (int y = 0; y < rh; y++) {
        const unsigned char *row = a + (size_t)(y + y0 + ry0) * w + x0 + rx0;
        float *orow = o + (size_t)y * rw;
        for (int x = 0; x < rw; x++) {  /* plain arithmetic, so the compiler vectorises it */
            float v = ((float)row[x] * k255 - floor32) / span;
            orow[x] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        }
    }
    result = Py_BuildValue("(Nii)", out, rh, rw);
done:
    PyBuffer_Release(&src);
    return result;
}

static PyMethodDef methods[] = {
    {"resize", resize, METH_VARARGS,
     "resize(src, h, w, dst, out_h, out_w, bilinear): Pillow's BOX / BILINEAR resize of float32 src into dst."},
    {"shift_rows", shift_rows, METH_VARARGS,
     "shift_rows(src, h, w, dst, out_w, shifts): row y of dst samples row y of src at x + shifts[y]."},
    {"alpha_ink", alpha_ink, METH_VARARGS,
     "alpha_ink(alpha8, h, w, min_contrast): the ink of a transparent canvas (None: blank; False: not one)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "Compiled preprocessing kernels.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
