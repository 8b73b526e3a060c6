"""The compiled WaveNet generation kernel (imports numba; see :mod:`.numba_backend`).

Compiled on first call for the dtype of the weights and cached on disk. Activations, biases
and accumulators are float32 or float64; weight matrices are the same dtype or, for float32
activations, IEEE half precision stored as ``uint16`` bit patterns (numba has no float16 on
the CPU): :func:`widen` turns each into float32 as it is loaded (one ``vcvtph2ps`` per
vector with F16C/AVX-512), so half the bytes stream through the caches while every product
and sum stays float32. Mat-vec products use fast-math reassociation so LLVM can vectorise
the reductions; sampling runs in float64 without fast-math, in the same order of operations
as the torch samplers of :mod:`synesthesia.functional.distributions`.

References:
    Paine et al., "Fast WaveNet Generation Algorithm", 2016.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["row_loop", "matvec_add", "widen", "prefetch"]

_FAST = {"contract", "reassoc", "nsz", "arcp"}


@intrinsic
def widen(typingctx, value):
    """A weight as arithmetic: float32/float64 unchanged, ``uint16`` read as IEEE half and
    widened exactly to float32 (LLVM ``bitcast`` to ``half`` then ``fpext``)."""
    if value in (types.float32, types.float64):
        return value(value), lambda context, builder, signature, args: args[0]
    if value == types.uint16:

        def codegen(context, builder, signature, args):
            return builder.fpext(builder.bitcast(args[0], ir.HalfType()), ir.FloatType())

        return types.float32(value), codegen
    return None


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to fetch the cache line holding element ``index`` of ``array``'s buffer
    (LLVM ``llvm.prefetch``: read, locality 1). A hint only: it never faults, also past the
    end of the buffer, and changes no result."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte_ptr = ir.IntType(8).as_pointer()
        address = builder.bitcast(builder.gep(data, [args[1]]), byte_ptr)
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        builder.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, 1), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(array, types.intp), codegen


# Not inline="always": numba inlines at IR level with the caller's (exact) math flags, which
# stops the vectorisation; a separately compiled callee keeps its fast-math flags.
@njit(fastmath=_FAST, cache=True)
def matvec_add(weight, x, out, ahead):
    """``out += weight @ x``, four rows at a time so each load of ``x`` serves four rows.

    ``weight`` is float32/float64 like ``x``, or ``uint16`` half-precision bits with float32
    ``x`` and ``out`` (see :func:`widen`). ``ahead > 0``: before each block of four rows,
    prefetch the next block's bytes shifted ``ahead`` elements further on (past the last row
    this reaches into whatever follows in memory: the next layer's matrix of a stacked
    array), so weights that live in L3 arrive before they are needed; 0 for none.
    """
    rows, cols = weight.shape
    blocked = rows - rows % 4
    line = max(1, 64 // weight.itemsize)  # elements per 64-byte cache line
    for o in range(0, blocked, 4):
        if ahead > 0:
            start = (o + 4) * cols + ahead
            for q in range(start, start + 4 * cols, line):
                prefetch(weight, q)
        a0 = out[o]
        a1 = out[o + 1]
        a2 = out[o + 2]
        a3 = out[o + 3]
        for i in range(cols):
            xi = x[i]
            a0 += widen(weight[o, i]) * xi
            a1 += widen(weight[o + 1, i]) * xi
            a2 += widen(weight[o + 2, i]) * xi
            a3 += widen(weight[o + 3, i]) * xi
        out[o] = a0
        out[o + 1] = a1
        out[o + 2] = a2
        out[o + 3] = a3
    for o in range(blocked, rows):
        acc = out[o]
        for i in range(cols):
            acc += widen(weight[o, i]) * x[i]
        out[o] = acc


_TANH_CLAMP = 7.90531110763549805  # beyond it tanh rounds to +-1 in float32


@njit(fastmath=_FAST, inline="always")
def _tanh_rational(x):
    """Eigen's float tanh: a 13/6 rational minimax fit, a few float32 ulps of error."""
    x = min(max(x, -_TANH_CLAMP), _TANH_CLAMP)
    x2 = x * x
    p = x2 * -2.76076847742355e-16 + 2.00018790482477e-13
    p = x2 * p + -8.60467152213735e-11
    p = x2 * p + 5.12229709037114e-08
    p = x2 * p + 1.48572235717979e-05
    p = x2 * p + 6.37261928875436e-04
    p = x2 * p + 4.89352455891786e-03
    q = x2 * 1.19825839466702e-06 + 1.18534705686654e-04
    q = x2 * q + 2.26843463243900e-03
    q = x2 * q + 4.89352518554385e-03
    return x * p / q


@njit(fastmath=_FAST, cache=True)
def gate_fast(h, z):
    """``z = tanh(a) * sigmoid(b)`` for ``h = [a, b]``, vectorisable (float32 weights)."""
    half = z.shape[0]
    for i in range(half):
        a = np.float64(h[i])
        b = np.float64(h[half + i])
        z[i] = _tanh_rational(a) * (0.5 + 0.5 * _tanh_rational(0.5 * b))


@njit(cache=True)
def gate_exact(h, z):
    """``z = tanh(a) * sigmoid(b)`` with libm (float64 weights)."""
    half = z.shape[0]
    for i in range(half):
        z[i] = math.tanh(h[i]) / (1.0 + math.exp(-h[half + i]))


@njit(cache=True)
def categorical(logits, start, count, scale, u, weights):
    """Inverse-CDF draw from softmax(logits[start:start+count] * scale) in float64."""
    top = -np.inf
    for i in range(count):
        v = np.float64(logits[start + i]) * scale
        if v > top:
            top = v
    total = 0.0
    for i in range(count):
        total += math.exp(np.float64(logits[start + i]) * scale - top)
        weights[i] = total
    threshold = u * total
    index = 0
    for i in range(count):
        if weights[i] <= threshold:
            index += 1
    return min(index, count - 1)


@njit(cache=True, nogil=True)
def row_loop(
    b, t_start, t_stop, cond, frame_lengths, sample_lengths, hop, nearest, head,
    num_mixtures, log_scale_min, temperature, skip_scale, fast_gate, ahead, input_table, conv_w,
    dilations, offsets, out_w, out_b, hidden_w, hidden_b, proj_w, proj_b, uniforms, forced,
    use_forced, record, outputs, buffers, previous, samples,
):  # fmt: skip
    """Steps ``[t_start, min(t_stop, length))`` of batch row ``b``; state in ``buffers``."""
    num_layers, gates, conv_inputs = conv_w.shape
    channels = buffers.shape[2]
    taps = conv_inputs // channels
    half = gates // 2
    skips = hidden_w.shape[0]
    k_out = proj_w.shape[0]
    dt = out_b.dtype  # activations; the weight matrices may be half-precision bits
    x = np.empty(channels, dt)
    tap = np.empty(conv_inputs, dt)  # [x(t - (k-1) d), ..., x(t - d), x(t)]
    h = np.empty(gates, dt)
    z = np.empty(half, dt)
    res_skip = np.empty(channels + skips, dt)
    skip = np.empty(skips, dt)
    hidden_in = np.empty(skips, dt)
    hidden = np.empty(skips, dt)
    out = np.empty(k_out, dt)
    cast = np.empty(1, dt)
    weights = np.empty(k_out, np.float64)
    cast[0] = math.sqrt(0.5)
    sqrt_half = cast[0]
    last_frame = frame_lengths[b] - 1
    stop = min(t_stop, sample_lengths[b])
    prev = previous[b]
    current = (taps - 1) * channels
    for t in range(t_start, stop):
        if head == 0:
            x[:] = input_table[int(prev)]
        else:
            cast[0] = prev
            for r in range(channels):
                x[r] = input_table[0, r] * cast[0] + input_table[1, r]
        if nearest:
            n0 = min((t + hop // 2) // hop, last_frame)
            n1 = n0
            cast[0] = 0.0
        else:
            base = t // hop
            if base >= last_frame:
                n0 = last_frame
                n1 = last_frame
                cast[0] = 0.0
            else:
                n0 = base
                n1 = base + 1
                cast[0] = (t % hop) / hop
        frac = cast[0]
        skip[:] = 0.0
        for layer in range(num_layers):
            dilation = dilations[layer]
            size = (taps - 1) * dilation
            offset = offsets[layer]
            for j in range(taps - 1):  # the input (taps - 1 - j) * dilation steps ago
                column = offset + (t - (taps - 1 - j) * dilation) % size
                tap[j * channels : (j + 1) * channels] = buffers[b, column]
            tap[current:] = x
            buffers[b, offset + t % size] = x
            c0 = cond[b, n0, layer]
            c1 = cond[b, n1, layer]
            for g in range(gates):
                h[g] = c0[g] + frac * (c1[g] - c0[g])
            matvec_add(conv_w[layer], tap, h, ahead)
            if fast_gate:
                gate_fast(h, z)
            else:
                gate_exact(h, z)
            res_skip[:] = out_b[layer]
            matvec_add(out_w[layer], z, res_skip, ahead)
            skip += res_skip[channels:]
            for r in range(channels):
                x[r] = (res_skip[r] + x[r]) * sqrt_half
        for s in range(skips):
            hidden_in[s] = max(skip[s] * skip_scale, 0.0)
        hidden[:] = hidden_b
        matvec_add(hidden_w, hidden_in, hidden, ahead)
        for s in range(skips):
            hidden[s] = max(hidden[s], 0.0)
        out[:] = proj_b
        matvec_add(proj_w, hidden, out, ahead)
        if record:
            outputs[b, :, t] = out
        u0 = uniforms[b, t, 0]
        u1 = uniforms[b, t, 1]
        if head == 0:
            value = np.float64(categorical(out, 0, k_out, 1.0 / temperature, u0, weights))
        else:
            if head == 1:
                k = categorical(out, 0, num_mixtures, 1.0, u0, weights)
                mean = np.float64(out[num_mixtures + k])
                log_scale = max(out[2 * num_mixtures + k], log_scale_min)
                noise = math.log(u1) - math.log1p(-u1)
            else:
                mean = np.float64(out[0])
                log_scale = max(out[1], log_scale_min)
                noise = math.sqrt(-2.0 * math.log(u0)) * math.cos(2.0 * math.pi * u1)
            scale = math.exp(np.float64(log_scale))
            cast[0] = min(max(mean + temperature * scale * noise, -1.0), 1.0)
            value = np.float64(cast[0])
        samples[b, t] = value
        prev = forced[b, t] if use_forced else value
    previous[b] = prev
