"""Experiment helper: candidate forensic features in numpy on dumped crops (see dump-dataset.ts).

Each function takes one crop [H, W, 3] uint8 and returns a 1-d float vector. The per-image
feature is the mean over up to four 256 px tiles of the stored centre crop, as the model's
crop plan averages its crops.
"""
import numpy as np

YW = np.array([0.299, 0.587, 0.114])

def tiles(img, size=256):
    h, w = img.shape[:2]
    th, tw = min(size, h), min(size, w)
    out = []
    for y in range(0, max(1, h - th + 1), th):
        for x in range(0, max(1, w - tw + 1), tw):
            out.append(img[y:y + th, x:x + tw])
    return out[:4]

def spam(img, T=2):
    """Co-occurrence of adjacent truncated first differences of luma (rounded), h and v, pairs."""
    y = np.rint(img.astype(np.float64) @ YW)
    feats = []
    for r in (np.diff(y, axis=1), np.diff(y, axis=0).T):
        q = np.clip(r, -T, T).astype(int) + T
        B = 2 * T + 1
        code = q[:, :-1] * B + q[:, 1:]
        feats.append(np.bincount(code.ravel(), minlength=B * B) / code.size)
    return np.concatenate(feats)

def spam3(img, T=2):
    y = np.rint(img.astype(np.float64) @ YW)
    feats = []
    B = 2 * T + 1
    for r in (np.diff(y, axis=1), np.diff(y, axis=0).T):
        q = np.clip(r, -T, T).astype(int) + T
        code = (q[:, :-2] * B + q[:, 1:-1]) * B + q[:, 2:]
        feats.append(np.bincount(code.ravel(), minlength=B ** 3) / code.size)
    return np.concatenate(feats)

def radial_spectrum(img, bins=16):
    """Log radial + azimuthal power of the luma first-difference residual (2-D FFT, Hann window)."""
    y = img.astype(np.float64) @ YW
    r = y[1:, 1:] - y[1:, :-1] - y[:-1, 1:] + y[:-1, :-1]
    h, w = r.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    F = np.abs(np.fft.fftshift(np.fft.fft2((r - r.mean()) * win))) ** 2
    fy = np.fft.fftshift(np.fft.fftfreq(h))[:, None]; fx = np.fft.fftshift(np.fft.fftfreq(w))[None, :]
    rad = np.sqrt(fx ** 2 + fy ** 2) / 0.5
    ang = np.mod(np.arctan2(fy, fx), np.pi)
    rb = np.minimum((rad * bins).astype(int), bins)
    tot = F.sum() + 1e-9
    radial = np.bincount(rb.ravel(), weights=F.ravel(), minlength=bins + 1)[:bins] / tot
    cnt = np.bincount(rb.ravel(), minlength=bins + 1)[:bins]
    radial = np.log(radial / np.maximum(cnt, 1) * F.size + 1e-6)
    ab = np.minimum((ang / np.pi * 8).astype(int), 7)
    mask = rad > 0.25
    az = np.bincount(ab[mask].ravel(), weights=F[mask].ravel(), minlength=8) / (F[mask].sum() + 1e-9)
    return np.concatenate([radial - radial.mean(), np.log(az * 8 + 1e-6)])

def per_image(fn, img, size=256):
    return np.mean([fn(t) for t in tiles(img, size)], axis=0)

def dct_matrix(n=8):
    k = np.arange(n)
    C = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * np.sqrt(2 / n)
    C[0] /= np.sqrt(2)
    return C

DCT8 = dct_matrix()

def block_dct(img, channel='Y'):
    y = img.astype(np.float64) @ YW if channel == 'Y' else img[..., channel].astype(np.float64)
    h, w = (y.shape[0] // 8) * 8, (y.shape[1] // 8) * 8
    b = y[:h, :w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    return np.einsum('ui,abij,vj->abuv', DCT8, b, DCT8).reshape(-1, 64)

def dct_energy(img):
    """Per-frequency log mean |DCT| of aligned 8x8 luma blocks, minus its mean over the AC terms (63)."""
    c = np.abs(block_dct(img))[:, 1:]
    l = np.log(c.mean(0) + 1e-3)
    return l - l.mean()

def dct_small(img):
    """Per-frequency share of AC coefficients under 1 grey level (JPEG zeroes them), soft: mean min(|c|, 1)."""
    c = np.abs(block_dct(img))[:, 1:]
    return np.minimum(c, 1).mean(0)

CB = np.array([-0.168736, -0.331264, 0.5]); CR = np.array([0.5, -0.418688, -0.081312])

def block_dct_w(img, wvec, n=8):
    y = img.astype(np.float64) @ wvec
    C = dct_matrix(n)
    h, w = (y.shape[0] // n) * n, (y.shape[1] // n) * n
    b = y[:h, :w].reshape(h // n, n, w // n, n).transpose(0, 2, 1, 3)
    return np.einsum('ui,abij,vj->abuv', C, b, C).reshape(-1, n * n)

def dct_energy_chroma(img):
    out = []
    for wv in (CB, CR):
        l = np.log(np.abs(block_dct_w(img, wv))[:, 1:].mean(0) + 1e-3)
        out.append(l - l.mean())
    return np.concatenate(out)

def dct16_energy(img):
    l = np.log(np.abs(block_dct_w(img, YW, 16))[:, 1:].mean(0) + 1e-3)
    return l - l.mean()

def dct_chroma_ratio(img):
    """log E|Cb_uv| - log E|Y_uv| and the same for Cr, per AC frequency of aligned 8x8 blocks."""
    ly = np.log(np.abs(block_dct_w(img, YW))[:, 1:].mean(0) + 1e-3)
    return np.concatenate([np.log(np.abs(block_dct_w(img, wv))[:, 1:].mean(0) + 1e-3) - ly for wv in (CB, CR)])

def dct16_chroma(img):
    out = []
    for wv in (CB, CR):
        l = np.log(np.abs(block_dct_w(img, wv, 16))[:, 1:].mean(0) + 1e-3)
        out.append(l - l.mean())
    return np.concatenate(out)

def dct16_tails(img):
    """Per channel and AC frequency: log(E c^2) - 2 log(E|c|) over 16x16 blocks (0.45 Gaussian, larger when sparse)."""
    out = []
    for wv in (YW, CB, CR):
        c = block_dct_w(img - 0.0, wv, 16)[:, 1:]
        out.append(np.log((c ** 2).mean(0) + 1e-6) - 2 * np.log(np.abs(c).mean(0) + 1e-3))
    return np.concatenate(out)

def dct16_small(img):
    out = []
    for wv in (YW, CB, CR):
        c = np.abs(block_dct_w(img, wv, 16))[:, 1:]
        out.append(np.minimum(c, 1).mean(0))
    return np.concatenate(out)

def colour_corr(img, offsets=((0, 1), (1, 0), (0, 2), (2, 0), (1, 1), (0, 4), (4, 0), (0, 8), (8, 0))):
    """Correlation between residuals (x2 second difference) of R-G, G-B, R-B at spatial offsets."""
    x = img.astype(np.float64)
    r = x[1:, 1:] - x[1:, :-1] - x[:-1, 1:] + x[:-1, :-1]
    out = []
    for dy, dx in offsets:
        a = r[:r.shape[0] - dy, :r.shape[1] - dx]; b = r[dy:, dx:]
        for p, q in ((0, 1), (1, 2), (0, 2), (0, 0), (1, 1), (2, 2)):
            u = a[..., p]; v = b[..., q]
            out.append((u * v).mean() / (np.sqrt((u * u).mean() * (v * v).mean()) + 1e-6))
    return np.array(out)
