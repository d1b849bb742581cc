//! Outlining faces on the original, at full size.

use image::{DynamicImage, GenericImage, Rgba};
use media_core::item::FaceBox;

/// Bright green: stands out on skin, hair and most backgrounds.
const LINE: Rgba<u8> = Rgba([0, 255, 0, 255]);
/// A dark edge on both sides of the line keeps it visible on green or white backgrounds.
const EDGE: Rgba<u8> = Rgba([0, 0, 0, 255]);

/// Line thickness for an image: about 0.3% of the longest side, at least 2 pixels, so the box
/// stays visible in a thumbnail-sized view of a 20 MP photo.
pub fn line_width(width: u32, height: u32) -> u32 {
    (width.max(height) / 333).max(2)
}

/// Returns a copy of `image` (same dimensions, alpha kept when present) with every box outlined.
pub fn outline_faces(image: &DynamicImage, faces: &[FaceBox]) -> DynamicImage {
    let mut out = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let t = line_width(image.width(), image.height());
    for face in faces {
        // A dark band one pixel wider on each side, then the line itself just outside the face.
        stroke(&mut out, face, t + 1, t + 2, EDGE);
        stroke(&mut out, face, t, t, LINE);
    }
    out
}

/// Draws a rectangle outline of thickness `t` whose outer edge is `grow` pixels outside
/// `face`'s edge (the line goes around the face, not over it); clipped to the image.
fn stroke(image: &mut DynamicImage, face: &FaceBox, grow: u32, t: u32, color: Rgba<u8>) {
    let (width, height) = (image.width() as i64, image.height() as i64);
    let grow = i64::from(grow);
    let x0 = i64::from(face.x) - grow;
    let y0 = i64::from(face.y) - grow;
    let x1 = i64::from(face.x) + i64::from(face.w) + grow; // exclusive
    let y1 = i64::from(face.y) + i64::from(face.h) + grow;
    let t = i64::from(t);
    let mut fill = |xa: i64, ya: i64, xb: i64, yb: i64| {
        for y in ya.max(0)..yb.min(height) {
            for x in xa.max(0)..xb.min(width) {
                image.put_pixel(x as u32, y as u32, color);
            }
        }
    };
    fill(x0, y0, x1, y0 + t); // top
    fill(x0, y1 - t, x1, y1); // bottom
    fill(x0, y0, x0 + t, y1); // left
    fill(x1 - t, y0, x1, y1); // right
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgb, RgbImage};

    #[test]
    fn outlines_keep_size_and_mark_the_edges_not_the_face() {
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(400, 300, Rgb([200, 50, 50])));
        let face = FaceBox {
            x: 100,
            y: 100,
            w: 80,
            h: 80,
        };
        let out = outline_faces(
            &image,
            &[
                face,
                FaceBox {
                    x: 390,
                    y: 290,
                    w: 30,
                    h: 30,
                },
            ],
        );
        assert_eq!((out.width(), out.height()), (400, 300));
        assert!(!out.color().has_alpha());
        // Just outside the face's edge: green; the face itself: untouched.
        assert_eq!(out.get_pixel(99, 140), Rgba([0, 255, 0, 255]));
        assert_eq!(out.get_pixel(140, 140), Rgba([200, 50, 50, 255]));
        assert_eq!(out.get_pixel(100, 100), Rgba([0, 0, 0, 255]));
        assert_eq!(out.get_pixel(101, 101), Rgba([200, 50, 50, 255]));
        // Far from any box: untouched.
        assert_eq!(out.get_pixel(10, 10), Rgba([200, 50, 50, 255]));
    }
}
