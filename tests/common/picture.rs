//! A screenshot as RGB pixels: saved as PNG, measured (colours, differences), and read back as
//! text by OCR (Debian's `tesseract` command).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An 8-bit RGB image, rows top to bottom.
#[derive(Clone)]
pub struct Picture {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Picture {
    /// A `width`×`height` picture from `rgb` (3 bytes a pixel).
    pub fn new(width: u32, height: u32, rgb: Vec<u8>) -> Self {
        assert_eq!(rgb.len(), width as usize * height as usize * 3);
        Self { width, height, rgb }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Every pixel as `[r, g, b]`.
    pub fn pixels(&self) -> impl Iterator<Item = [u8; 3]> + '_ {
        self.rgb.chunks_exact(3).map(|p| [p[0], p[1], p[2]])
    }

    /// The pixel at (`x`, `y`).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The part of the picture in the rectangle at (`x`, `y`), clipped to the picture.
    pub fn crop(&self, x: u32, y: u32, width: u32, height: u32) -> Picture {
        let x0 = x.min(self.width);
        let y0 = y.min(self.height);
        let w = width.min(self.width - x0);
        let h = height.min(self.height - y0);
        let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
        for row in y0..y0 + h {
            let start = (row as usize * self.width as usize + x0 as usize) * 3;
            rgb.extend_from_slice(&self.rgb[start..start + w as usize * 3]);
        }
        Picture::new(w, h, rgb)
    }

    /// How many pixels are within `tolerance` (per channel) of `colour`.
    pub fn count_near(&self, colour: [u8; 3], tolerance: u8) -> usize {
        self.pixels()
            .filter(|p| {
                p.iter()
                    .zip(colour)
                    .all(|(&a, b)| a.abs_diff(b) <= tolerance)
            })
            .count()
    }

    /// The share of pixels within `tolerance` of `colour`, 0 to 1.
    pub fn fraction_near(&self, colour: [u8; 3], tolerance: u8) -> f64 {
        self.count_near(colour, tolerance) as f64 / self.pixel_count().max(1) as f64
    }

    /// How many distinct colours cover at least `min_pixels` pixels each.
    pub fn distinct_colours(&self, min_pixels: usize) -> usize {
        let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
        for p in self.pixels() {
            *counts.entry(p).or_default() += 1;
        }
        counts.values().filter(|&&n| n >= min_pixels).count()
    }

    /// How many pixels differ between `self` and `other` (same size) by more than `tolerance`
    /// in any channel.
    pub fn differing_pixels(&self, other: &Picture, tolerance: u8) -> usize {
        assert_eq!(
            (self.width, self.height),
            (other.width, other.height),
            "pictures of different sizes"
        );
        self.pixels()
            .zip(other.pixels())
            .filter(|(a, b)| a.iter().zip(b).any(|(&x, &y)| x.abs_diff(y) > tolerance))
            .count()
    }

    /// Number of pixels.
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Writes the picture as an RGB PNG at `path`, creating its folder.
    pub fn save_png(&self, path: &Path) {
        write_png(
            path,
            self.width,
            self.height,
            png::ColorType::Rgb,
            &self.rgb,
        );
    }

    /// The text `tesseract` reads in the picture.
    ///
    /// The picture is made grey, inverted (editors draw light text on dark backgrounds;
    /// tesseract reads dark on light best) and enlarged `scale` times before it is read; that
    /// image is kept next to `work` as `work` with the extension `ocr.png`, and the text as
    /// `ocr.txt`, so a failure can be looked at. Panics with an installation hint if
    /// `tesseract` is missing.
    pub fn ocr(&self, work: &Path, scale: u32) -> String {
        let input = work.with_extension("ocr.png");
        let (w, h) = (self.width * scale, self.height * scale);
        let mut grey = Vec::with_capacity(w as usize * h as usize);
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = self.pixel(x / scale, y / scale);
                let luma = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
                grey.push(255 - luma as u8);
            }
        }
        write_png(&input, w, h, png::ColorType::Grayscale, &grey);
        // Two page segmentations: sparse text (every label on its own) and automatic (lines
        // and blocks); each reads words the other sometimes drops, such as a boxed banner.
        let mut text = String::new();
        for psm in ["11", "3"] {
            let output = Command::new("tesseract")
                .arg(&input)
                .arg("stdout")
                .args(["--psm", psm])
                .output()
                .unwrap_or_else(|e| {
                    panic!(
                        "could not run tesseract ({e}); the editor picture tests read text with \
                         it: install the Debian packages `tesseract-ocr tesseract-ocr-eng`"
                    )
                });
            assert!(
                output.status.success(),
                "tesseract failed on {}: {}",
                input.display(),
                String::from_utf8_lossy(&output.stderr)
            );
            text.push_str(&String::from_utf8_lossy(&output.stdout));
            text.push('\n');
        }
        std::fs::write(work.with_extension("ocr.txt"), &text).unwrap_or_else(|e| {
            panic!("cannot write the OCR text next to {}: {e}", work.display())
        });
        text
    }
}

fn write_png(path: &Path, width: u32, height: u32, colour: png::ColorType, data: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    let file =
        File::create(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(data))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// OCR text reduced to what survives recognition reliably: lower-case letters and digits,
/// words separated by single spaces (`"04_Lead  NOT READY"` becomes `"04 lead not ready"`).
pub fn normalise_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the editor screenshots go: `target/editor-shots/` (under `$CARGO_TARGET_DIR` if set).
pub fn shots_dir() -> PathBuf {
    super::clap_host::target_dir(Path::new(env!("CARGO_MANIFEST_DIR"))).join("editor-shots")
}
