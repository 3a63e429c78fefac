//! QR codes of `otpauth://` URIs, for authenticator apps to scan: SVG text and PNG bytes.
//!
//! The symbol is [`qrcode`](https://docs.rs/qrcode)'s (error correction level M, quiet zone
//! of four modules); the PNG is written by image-rs's [`png`](https://docs.rs/png) encoder
//! (8-bit grayscale, eight pixels per module).

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module in the PNG.
const PNG_SCALE: usize = 8;
/// Modules of white border (the QR specification's quiet zone).
const QUIET_ZONE: usize = 4;

/// The URI could not be made into a QR code (longer than a QR symbol holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the provisioning URI does not fit a QR code")]
pub struct QrError;

fn symbol(data: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|_| QrError)
}

/// `data` as an SVG image.
///
/// # Errors
/// [`QrError`] when `data` is too long for a QR code.
pub fn svg(data: &str) -> Result<String, QrError> {
    Ok(symbol(data)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// `data` as a PNG image.
///
/// # Errors
/// [`QrError`] when `data` is too long for a QR code (or, not expected, the encoder fails).
pub fn png(data: &str) -> Result<Vec<u8>, QrError> {
    let code = symbol(data)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * PNG_SCALE;
    let mut pixels = vec![255_u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for row in y * PNG_SCALE..(y + 1) * PNG_SCALE {
            let start = row * side + x * PNG_SCALE;
            pixels[start..start + PNG_SCALE].fill(0);
        }
    }
    let side = u32::try_from(side).map_err(|_| QrError)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|_| QrError)?;
    writer.write_image_data(&pixels).map_err(|_| QrError)?;
    writer.finish().map_err(|_| QrError)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{png, svg, QrError};

    #[test]
    fn uris_become_svg_and_png_images() {
        let uri = "otpauth://totp/Example:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";
        let image = svg(uri).unwrap();
        assert!(
            image.contains("<svg") && image.ends_with("</svg>"),
            "{image}"
        );
        let bytes = png(uri).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(svg(&"x".repeat(8000)), Err(QrError));
    }
}
