/* onednn.cpp — the oneDNN peer: the network of ir.txt built from oneDNN 2.x
 * primitives the way a careful user builds them, then timed.
 *
 * - Convolution and inner-product primitives get format_tag::any for source,
 *   weights and destination, so oneDNN picks its blocked layouts (nChw16c …);
 *   each next primitive takes the previous one's destination descriptor, so
 *   activations stay blocked between layers and no reorder is needed there.
 * - Weights are reordered into the chosen layouts once, before timing.
 * - Activations (and a per-position bias, as a binary post-op) are fused as
 *   post-ops; a standalone activation layer right after a conv/dense is fused too.
 * - Inside the timed call: the input reorder from the caller's NHWC buffer,
 *   every primitive, and the final reorder to the caller's plain output —
 *   what one inference really costs a program that owns plain buffers.
 * - Convolution algorithm: `direct` or `auto` (lets oneDNN choose Winograd
 *   where it thinks it pays); bench.py runs both and keeps the faster.
 * Threads: oneDNN here is the OpenMP build; bench.py sets OMP_NUM_THREADS=1.
 *
 * Usage: onednn MODEL_DIR INPUT.bin OUTPUT.bin direct|auto
 */
extern "C" {
#include "ir.h"
#include "timing.h"
}

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Step {
    primitive prim;
    std::unordered_map<int, memory> args;
};

class Network {
  public:
    Network(const Ir &ir, algorithm conv_algo) : ir_(ir), algo_(conv_algo), eng_(engine::kind::cpu, 0), strm_(eng_) {}

    void build(const float *input);
    void run();
    const float *output() const { return static_cast<const float *>(out_.get_data_handle()); }
    long output_size() const { return out_size_; }

  private:
    const Ir &ir_;
    algorithm algo_;
    engine eng_;
    stream strm_;
    std::vector<Step> steps_;
    std::vector<memory> keep_;      // weights and constants referenced by steps
    memory cur_, out_;
    memory::dims dims_;             // logical dims of cur_: {1,C,H,W} or {1,N}
    std::string flatten_order_;     // set between a flatten and what consumes it
    long out_size_ = 0;
    int next_ = 1;                  // index of the next ir op to build

    memory constant(const memory::dims &d, tag t, const float *data);
    memory into(const memory::desc &want);
    memory to_plain_vector();
    void post_activation(post_ops &po, const IrOp *op, const char *key);
    void fuse_following_activations(post_ops &po);
    memory packed(const memory::desc &want, const memory::dims &dims, tag user, const float *data);
    primitive_attr fused(const IrOp *op, const memory *position_bias);
    convolution_forward::desc conv_desc(const IrOp *op) const;
    void add(primitive p, std::unordered_map<int, memory> args) { steps_.push_back({p, std::move(args)}); }
    void conv(const IrOp *op);
    void pool(const IrOp *op, bool global);
    void dense(const IrOp *op);
    void activation(const IrOp *op);
    void affine(const IrOp *op);
    void finish();
};

/* A user-owned constant tensor (weights, bias, scales), plain layout. */
memory Network::constant(const memory::dims &d, tag t, const float *data) {
    memory m({d, dt::f32, t}, eng_);
    std::memcpy(m.get_data_handle(), data, m.get_desc().get_size());
    keep_.push_back(m);
    return m;
}

/* cur_ as `want`: the same memory, or a reorder step into a new one. */
memory Network::into(const memory::desc &want) {
    if (cur_.get_desc() == want)
        return cur_;
    memory m(want, eng_);
    add(reorder(cur_, m), {{DNNL_ARG_FROM, cur_}, {DNNL_ARG_TO, m}});
    return m;
}

/* A flattened (or pooled-to-1x1) tensor as a plain {1,N} vector. */
memory Network::to_plain_vector() {
    if (dims_.size() == 2)
        return cur_ = into(memory::desc(dims_, dt::f32, tag::nc));
    tag t = flatten_order_ == "chw" ? tag::nchw : tag::nhwc;
    memory plain = into(memory::desc(dims_, dt::f32, t));
    dims_ = {1, dims_[1] * dims_[2] * dims_[3]};
    flatten_order_.clear();
    return cur_ = memory({dims_, dt::f32, tag::nc}, eng_, plain.get_data_handle());
}

void Network::post_activation(post_ops &po, const IrOp *op, const char *key) {
    float alpha = ir_float(op, "alpha");
    if (ir_is(op, key, "relu")) po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    else if (ir_is(op, key, "leaky_relu")) po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f);
    else if (ir_is(op, key, "relu6")) po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f);
    else if (ir_is(op, key, "sigmoid")) po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f);
    else if (ir_is(op, key, "tanh")) po.append_eltwise(1.f, algorithm::eltwise_tanh, 0.f, 0.f);
}

/* Standalone activation layers right after a conv/dense become its post-ops. */
void Network::fuse_following_activations(post_ops &po) {
    while (next_ < ir_.n_ops && ir_is(&ir_.ops[next_], nullptr, "act") && !ir_is(&ir_.ops[next_], "kind", "softmax"))
        post_activation(po, &ir_.ops[next_++], "kind");
}

/* Weights in the layout the primitive chose, reordered once, before timing. */
memory Network::packed(const memory::desc &want, const memory::dims &dims, tag user, const float *data) {
    memory user_w = constant(dims, user, data), w(want, eng_);
    reorder(user_w, w).execute(strm_, user_w, w);
    keep_.push_back(w);
    return w;
}

/* Post-ops: a per-position bias (binary add), the layer's activation, and
 * standalone activation layers that follow it. */
primitive_attr Network::fused(const IrOp *op, const memory *position_bias) {
    post_ops po;
    if (position_bias)
        po.append_binary(algorithm::binary_add, position_bias->get_desc());
    post_activation(po, op, "act");
    fuse_following_activations(po);
    primitive_attr attr;
    attr.set_post_ops(po);
    return attr;
}

convolution_forward::desc Network::conv_desc(const IrOp *op) const {
    memory::dim ic = ir_int(op, "ic"), oc = ir_int(op, "oc");
    memory::desc src({1, ic, ir_int(op, "ih"), ir_int(op, "iw")}, dt::f32, tag::any);
    memory::desc w({oc, ic, ir_int(op, "kh"), ir_int(op, "kw")}, dt::f32, tag::any);
    memory::desc dst({1, oc, ir_int(op, "oh"), ir_int(op, "ow")}, dt::f32, tag::any), bias({oc}, dt::f32, tag::x);
    memory::dims strides = {ir_int(op, "sh"), ir_int(op, "sw")};
    memory::dims dilates = {ir_int(op, "dh") - 1, ir_int(op, "dw") - 1};  // oneDNN counts the gaps
    memory::dims pad_l = {ir_int(op, "pt"), ir_int(op, "pl")}, pad_r = {ir_int(op, "pb"), ir_int(op, "pr")};
    prop_kind inference = prop_kind::forward_inference;
    if (ir_is(op, "bias", "channel"))
        return convolution_forward::desc(inference, algo_, src, w, bias, dst, strides, dilates, pad_l, pad_r);
    return convolution_forward::desc(inference, algo_, src, w, dst, strides, dilates, pad_l, pad_r);
}

void Network::conv(const IrOp *op) {
    memory::dim ic = ir_int(op, "ic"), oc = ir_int(op, "oc");
    memory::dims dst = {1, oc, ir_int(op, "oh"), ir_int(op, "ow")};
    bool position = ir_is(op, "bias", "position");
    memory position_bias = position ? constant(dst, tag::nchw, ir_tensor(&ir_, op, "b")) : memory();
    convolution_forward::primitive_desc pd(conv_desc(op), fused(op, position ? &position_bias : nullptr), eng_);
    printf("impl=%s\n", pd.impl_info_str());
    memory w = packed(pd.weights_desc(), {oc, ic, ir_int(op, "kh"), ir_int(op, "kw")}, tag::oihw, ir_tensor(&ir_, op, "w"));
    memory src_m = into(pd.src_desc()), dst_m(pd.dst_desc(), eng_);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst_m}};
    if (ir_is(op, "bias", "channel"))
        args[DNNL_ARG_BIAS] = constant({oc}, tag::x, ir_tensor(&ir_, op, "b"));
    if (position)
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = position_bias;
    add(convolution_forward(pd), args);
    cur_ = dst_m;
    dims_ = dst;
    if (ir_is(op, "act", "softmax"))
        activation(op);
}

void Network::pool(const IrOp *op, bool global) {
    memory::dim c = ir_int(op, "c");
    memory::dims dst = global ? memory::dims{1, c, 1, 1} : memory::dims{1, c, ir_int(op, "oh"), ir_int(op, "ow")};
    memory::dims kernel = global ? memory::dims{ir_int(op, "h"), ir_int(op, "w")} : memory::dims{ir_int(op, "kh"), ir_int(op, "kw")};
    memory::dims strides = global ? kernel : memory::dims{ir_int(op, "sh"), ir_int(op, "sw")};
    memory::dims pad_l = global ? memory::dims{0, 0} : memory::dims{ir_int(op, "pt"), ir_int(op, "pl")};
    memory::dims pad_r = global ? memory::dims{0, 0} : memory::dims{ir_int(op, "pb"), ir_int(op, "pr")};
    algorithm a = ir_is(op, "kind", "max") ? algorithm::pooling_max
                  : !global && ir_int(op, "count_pad") ? algorithm::pooling_avg_include_padding
                                                       : algorithm::pooling_avg_exclude_padding;
    pooling_forward::desc d(prop_kind::forward_inference, a, cur_.get_desc(), {dst, dt::f32, tag::any},
                            strides, kernel, pad_l, pad_r);
    pooling_forward::primitive_desc pd(d, eng_);
    memory dst_m(pd.dst_desc(), eng_);
    add(pooling_forward(pd), {{DNNL_ARG_SRC, cur_}, {DNNL_ARG_DST, dst_m}});
    cur_ = dst_m;
    dims_ = dst;
}

void Network::dense(const IrOp *op) {
    memory::dim n_out = ir_int(op, "n_out");
    bool has_bias = !ir_is(op, "bias", "none");
    memory::dims wdims = dims_.size() == 4 ? memory::dims{n_out, dims_[1], dims_[2], dims_[3]}
                                           : memory::dims{n_out, dims_[1]};
    // A dense after flatten keeps the 4-D source: oneDNN flattens blocked data
    // itself; the weights' input order is the flatten's (hwc = ohwi).
    tag user_tag = dims_.size() == 2 ? tag::oi : flatten_order_ == "chw" ? tag::oihw : tag::ohwi;
    memory::desc src_md = dims_.size() == 4 ? memory::desc(dims_, dt::f32, tag::any) : cur_.get_desc();
    memory::desc bias_md({has_bias ? n_out : 0}, dt::f32, tag::x);
    inner_product_forward::desc d = has_bias
        ? inner_product_forward::desc(prop_kind::forward_inference, src_md, {wdims, dt::f32, tag::any}, bias_md, {{1, n_out}, dt::f32, tag::any})
        : inner_product_forward::desc(prop_kind::forward_inference, src_md, {wdims, dt::f32, tag::any}, {{1, n_out}, dt::f32, tag::any});
    inner_product_forward::primitive_desc pd(d, fused(op, nullptr), eng_);
    memory w = packed(pd.weights_desc(), wdims, user_tag, ir_tensor(&ir_, op, "w"));
    memory src_m = into(pd.src_desc()), dst_m(pd.dst_desc(), eng_);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst_m}};
    if (has_bias)
        args[DNNL_ARG_BIAS] = constant({n_out}, tag::x, ir_tensor(&ir_, op, "b"));
    add(inner_product_forward(pd), args);
    cur_ = dst_m;
    dims_ = {1, n_out};
    flatten_order_.clear();
    if (ir_is(op, "act", "softmax"))
        activation(op);
}

/* A standalone activation; also the softmax of a conv/dense (op has `act`). */
void Network::activation(const IrOp *op) {
    const char *key = ir_is(op, nullptr, "act") ? "kind" : "act";
    if (ir_is(op, key, "softmax")) {
        if (!flatten_order_.empty())
            to_plain_vector();
        softmax_forward::desc d(prop_kind::forward_inference, cur_.get_desc(), 1);
        softmax_forward::primitive_desc pd(d, eng_);
        memory dst_m(pd.dst_desc(), eng_);
        add(softmax_forward(pd), {{DNNL_ARG_SRC, cur_}, {DNNL_ARG_DST, dst_m}});
        cur_ = dst_m;
        return;
    }
    post_ops po;
    post_activation(po, op, key);
    if (po.len() == 0)
        return;
    algorithm a;
    float alpha, beta, scale;
    po.get_params_eltwise(0, scale, a, alpha, beta);
    eltwise_forward::desc d(prop_kind::forward_inference, a, cur_.get_desc(), alpha, beta);
    eltwise_forward::primitive_desc pd(d, eng_);
    memory dst_m(pd.dst_desc(), eng_);
    add(eltwise_forward(pd), {{DNNL_ARG_SRC, cur_}, {DNNL_ARG_DST, dst_m}});
    cur_ = dst_m;
}

/* y = x * scale[c] + offset[c]: a binary mul with a fused binary add. */
void Network::affine(const IrOp *op) {
    if (!flatten_order_.empty())
        to_plain_vector();
    memory::dims per_channel = dims_.size() == 4 ? memory::dims{1, dims_[1], 1, 1} : dims_;
    tag t = dims_.size() == 4 ? tag::nchw : tag::nc;
    memory scale = constant(per_channel, t, ir_tensor(&ir_, op, "scale"));
    memory offset = constant(per_channel, t, ir_tensor(&ir_, op, "offset"));
    post_ops po;
    po.append_binary(algorithm::binary_add, offset.get_desc());
    primitive_attr attr;
    attr.set_post_ops(po);
    binary::desc d(algorithm::binary_mul, cur_.get_desc(), scale.get_desc(), cur_.get_desc());
    binary::primitive_desc pd(d, attr, eng_);
    memory dst_m(pd.dst_desc(), eng_);
    add(binary(pd), {{DNNL_ARG_SRC_0, cur_}, {DNNL_ARG_SRC_1, scale}, {DNNL_ARG_DST, dst_m},
                     {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, offset}});
    cur_ = dst_m;
}

/* The result into the caller's plain buffer (vector, or NHWC image). */
void Network::finish() {
    if (!flatten_order_.empty() || dims_.size() == 2)
        out_ = to_plain_vector();
    else
        out_ = into(memory::desc(dims_, dt::f32, tag::nhwc));
    out_size_ = 1;
    for (auto d : dims_)
        out_size_ *= d;
}

void Network::build(const float *input) {
    const IrOp *in = &ir_.ops[0];
    long c = ir_int(in, "c"), h = ir_int(in, "h"), w = ir_int(in, "w");
    // The prepared input is HWC for an image; a vector input has h = w = 1.
    dims_ = h * w > 1 ? memory::dims{1, c, h, w} : memory::dims{1, c};
    cur_ = memory({dims_, dt::f32, dims_.size() == 4 ? tag::nhwc : tag::nc}, eng_, const_cast<float *>(input));
    while (next_ < ir_.n_ops) {
        const IrOp *op = &ir_.ops[next_++];
        if (ir_is(op, nullptr, "conv")) conv(op);
        else if (ir_is(op, nullptr, "pool")) pool(op, false);
        else if (ir_is(op, nullptr, "gpool")) pool(op, true);
        else if (ir_is(op, nullptr, "flatten")) flatten_order_ = ir_is(op, "order", "chw") ? "chw" : "hwc";
        else if (ir_is(op, nullptr, "dense")) dense(op);
        else if (ir_is(op, nullptr, "act")) activation(op);
        else affine(op);
    }
    finish();
    strm_.wait();
}

void Network::run() {
    for (auto &s : steps_)
        s.prim.execute(strm_, s.args);
    strm_.wait();
}

static void run_once(void *ctx) { static_cast<Network *>(ctx)->run(); }

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL_DIR INPUT.bin OUTPUT.bin direct|auto\n", argv[0]);
        return 2;
    }
    static Ir ir;
    ir_load(&ir, argv[1]);
    const IrOp *in = &ir.ops[0];
    float *input = bench_read_floats(argv[2], (size_t)(ir_int(in, "c") * ir_int(in, "h") * ir_int(in, "w")));
    algorithm algo = std::strcmp(argv[4], "auto") ? algorithm::convolution_direct : algorithm::convolution_auto;
    try {
        Network net(ir, algo);
        net.build(input);
        bench_measure(run_once, &net);
        bench_write_floats(argv[3], net.output(), (size_t)net.output_size());
    } catch (const dnnl::error &e) {
        fprintf(stderr, "onednn: %s (status %d)\n", e.what(), (int)e.status);
        return 1;
    }
    return 0;
}
