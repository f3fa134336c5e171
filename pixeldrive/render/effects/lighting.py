"""feDiffuseLighting and feSpecularLighting with distant, point and spot lights."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.frame import Step, numbers

LIGHTS = ("feDistantLight", "fePointLight", "feSpotLight")


def _num(node: Any, name: str, default: float) -> float:
    found = numbers(node.get(name))
    return found[0] if found else default


def _normals(alpha: Any, surface_scale: float) -> Any:
    """Unit surface normals (Sobel, as the spec writes it; edges repeat their pixel)."""
    a = np.pad(alpha, 1, mode="edge")
    nx = (a[:-2, 2:] + 2 * a[1:-1, 2:] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[1:-1, :-2] + a[2:, :-2])
    ny = (a[2:, :-2] + 2 * a[2:, 1:-1] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[:-2, 1:-1] + a[:-2, 2:])
    n = np.stack([-surface_scale * nx / 4, -surface_scale * ny / 4, np.ones_like(alpha)], axis=-1)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def _light(step: Step, light: Any, z: Any) -> tuple[Any, Any]:
    """Unit vectors towards the light at every pixel, and the light's colour factor
    (1 except inside or outside a spot's cone)."""
    height, width = z.shape
    if light.tag == "feDistantLight":
        az, el = math.radians(_num(light, "azimuth", 0)), math.radians(_num(light, "elevation", 0))
        vector = np.array([math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])
        return np.broadcast_to(vector, (height, width, 3)), np.ones((height, width))
    frame = step.frame
    zscale = (frame.scale[0] + frame.scale[1]) / 2
    lx, ly = frame.point(_num(light, "x", 0), _num(light, "y", 0))
    lz = _num(light, "z", 0) * zscale
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    vector = np.stack([lx - xs, ly - ys, lz - z], axis=-1)
    vector /= np.maximum(np.linalg.norm(vector, axis=-1, keepdims=True), 1e-12)
    if light.tag == "fePointLight":
        return vector, np.ones((height, width))
    return vector, _spot(step, light, vector, (lx, ly, lz), zscale)


def _spot(
    step: Step, light: Any, vector: Any, position: tuple[float, float, float], zscale: float
) -> Any:
    frame = step.frame
    px, py = frame.point(_num(light, "pointsAtX", 0), _num(light, "pointsAtY", 0))
    pz = _num(light, "pointsAtZ", 0) * zscale
    s = np.array([px - position[0], py - position[1], pz - position[2]])
    s /= max(float(np.linalg.norm(s)), 1e-12)
    minus_l_dot_s = -(vector @ s)
    # Clamped to 1…128 as Chrome and resvg clamp it (a negative one lit nothing).
    exponent = min(128.0, max(1.0, _num(light, "specularExponent", 1.0)))
    factor = np.where(minus_l_dot_s > 0, np.power(np.maximum(minus_l_dot_s, 0), exponent), 0.0)
    cone = light.get("limitingConeAngle")
    if cone is not None:
        cos_cone = math.cos(math.radians(abs(_num(light, "limitingConeAngle", 90))))
        factor = np.where(minus_l_dot_s < cos_cone, 0.0, factor)
    return factor


def _setup(step: Step) -> tuple[Any, Any, Any, Any] | None:
    light = next((c for c in step.prim.children if c.tag in LIGHTS), None)
    if light is None:
        return None
    # In device pixels, as Inkscape scales it: the slopes, and so the light, are the same
    # at every output size (unscaled, a card drawn at half size had bevels twice as steep).
    sx, sy = step.frame.scale
    surface_scale = step.number("surfaceScale", 1.0) * (sx * sy) ** 0.5
    alpha = step.pixels()[..., 3].astype(np.float64)
    normals = _normals(alpha, surface_scale)
    vector, factor = _light(step, light, surface_scale * alpha)
    color = im.color_in_space(step.color("lighting-color", None), step.linear)[:3]
    return normals, vector, factor, color


def diffuse(step: Step) -> im.Img:
    setup = _setup(step)
    out = im.blank(step.frame.height, step.frame.width)
    if setup is None:
        return im.Img(out, step.linear)
    normals, vector, factor, color = setup
    kd = step.number("diffuseConstant", 1.0)
    n_dot_l = np.sum(normals * vector, axis=-1)
    rgb = kd * np.maximum(n_dot_l, 0)[..., None] * factor[..., None] * color
    out[..., :3] = np.clip(rgb, 0, 1)
    out[..., 3] = 1.0
    return im.Img(out, step.linear)


def specular(step: Step) -> im.Img:
    setup = _setup(step)
    out = im.blank(step.frame.height, step.frame.width)
    if setup is None:
        return im.Img(out, step.linear)
    ks = step.number("specularConstant", 1.0)
    exponent = step.number("specularExponent", 1.0)
    if not 1.0 <= exponent <= 128.0:  # out of SVG 1.1's range: transparent, as resvg draws
        return im.Img(out, step.linear)
    normals, vector, factor, color = setup
    half = vector + np.array([0.0, 0.0, 1.0])
    half /= np.maximum(np.linalg.norm(half, axis=-1, keepdims=True), 1e-12)
    n_dot_h = np.maximum(np.sum(normals * half, axis=-1), 0)
    rgb = np.clip(ks * np.power(n_dot_h, exponent)[..., None] * factor[..., None] * color, 0, 1)
    # The colour is straight, its alpha the brightest channel; premultiplied as Inkscape
    # does (read as premultiplied already, every highlight came out too bright).
    out[..., 3] = rgb.max(axis=-1)
    out[..., :3] = rgb * out[..., 3:4]
    return im.Img(out, step.linear)
