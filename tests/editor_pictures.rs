//! The editors as a person sees them: the built bundle's stem and master editors embedded in
//! X11 windows of a private Xvfb server through the CLAP `gui` extension, while a session plays
//! through the plugins on an audio thread; screenshots at the default size and at a larger one,
//! for a clean session and for one with a clipping stem, saved under `target/editor-shots/` and
//! checked: the window painted, the verdict's colour is there, the picture keeps changing while
//! audio plays, and OCR reads back the stem's name and the verdict.
//!
//! This test has its own `main` (no libtest harness): it starts Xvfb and sets `DISPLAY` before
//! any thread exists. It prints a libtest-style summary line and exits non-zero on failure.
//!
//! Regenerate the screenshots with
//! `cargo test --features assert_process_allocs --test editor_pictures -- --nocapture`.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clack_extensions::gui::GuiSize;
use common::clap_host::{bundle_path, ClapBundle};
use common::gui_host::{
    notes, run_main_loop, wait_for_paint, AudioThread, GuiInstance, Input, Playback, ThreadRoles,
};
use common::picture::{normalise_text, shots_dir, Picture};
use common::state::configure_master;
use common::xserver::{XHost, Xvfb};

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const RATE: f64 = 48_000.0;
const BLOCK: usize = 480;

/// The host windows' background: a colour no editor draws, so unpainted pixels stand out.
const BACKGROUND: u32 = 0xFF00FF;
const BACKGROUND_RGB: [u8; 3] = [0xFF, 0x00, 0xFF];

/// The larger size every editor is resized to (the host window's corner dragged).
const LARGE: GuiSize = GuiSize {
    width: 1400,
    height: 900,
};

/// Verdict colours of the editor's palette (`src/plugin/editor/theme.rs`): in the window /
/// READY, and fault / NOT READY. Update these when the palette changes.
const GOOD_RGB: [u8; 3] = [0x4c, 0xd0, 0x8c];
const BAD_RGB: [u8; 3] = [0xff, 0x5d, 0x55];
/// The sample-peak bars (`theme::SAMPLE_PEAK`): drawn only by the meters.
const SAMPLE_PEAK_RGB: [u8; 3] = [0x8f, 0xa3, 0xbf];
/// At least this many pixels of the verdict colour (a meter bar or a banner).
const VERDICT_PIXELS: usize = 300;

/// How long an editor may take from `show()` to its first painted frame.
const FIRST_PAINT_TIMEOUT: Duration = Duration::from_secs(5);

/// The stems of the session: name, tone frequency, and peak level (dBFS) in the clean session.
/// Each plays a burst in its own third of a 0.6 s cycle, so the sum peaks where one stem does.
const STEMS: [(&str, f32, f32); 3] = [
    ("01_Drums", 110.0, -3.8),
    ("02_Bass", 55.0, -4.5),
    ("03_Keys", 330.0, -5.2),
];
/// The stem shown in the stem pictures; in the session with findings it is driven to +1 dBFS
/// and clips.
const PICTURED_STEM: usize = 1;
const MASTER_NAME: &str = "Master";

/// What each session should make the editors say.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Session {
    /// Every stem and the master peak in the -6 to -3 dBFS window.
    Clean,
    /// The pictured stem clips.
    Findings,
}

impl Session {
    fn tag(self) -> &'static str {
        match self {
            Session::Clean => "clean",
            Session::Findings => "findings",
        }
    }

    fn verdict_rgb(self) -> [u8; 3] {
        match self {
            Session::Clean => GOOD_RGB,
            Session::Findings => BAD_RGB,
        }
    }
}

/// What OCR must read on a picture, and what it must not (both normalised, see
/// `normalise_text`; the phrase "ready to print" is taken out of the text first). `role` is "stem" or "master", `size` "default" or "large".
///
/// This is the table to adapt when the editor's wording or layout changes.
fn expected_text(role: &str, size: &str, session: Session) -> (Vec<String>, Vec<&'static str>) {
    let stem = normalise_text(STEMS[PICTURED_STEM].0);
    let mut must: Vec<String> = Vec::new();
    let mut must_not: Vec<&'static str> = Vec::new();
    match (role, session) {
        ("stem", Session::Clean) => {
            must.extend([stem, "in the window".into(), "headroom".into()]);
            // What the master concluded about this stem, on the stem's own editor.
            must.push("what the master hears".into());
            must_not.push("clips");
        }
        ("stem", Session::Findings) => {
            must.extend([
                stem.clone(),
                "samples at full scale".into(),
                "headroom".into(),
            ]);
            must.push("what the master hears".into());
            // The master's finding about this stem, shown on the stem.
            must.push(format!("{stem} has"));
        }
        (_, Session::Clean) => {
            must.extend(["master".into(), "ready".into()]);
            // The stems table names every stem.
            must.extend(STEMS.iter().map(|(name, ..)| normalise_text(name)));
            must_not.extend(["not ready", "warnings"]);
        }
        (_, Session::Findings) => {
            must.extend(["master".into(), "not ready".into(), stem.clone()]);
            // The reasons sit right under the banner, at every size.
            must.push(format!("{stem} has"));
            must.push("samples at or above full scale".into());
            let _ = size;
        }
    }
    (must, must_not)
}

/// Results of the checks, printed as they happen.
#[derive(Default)]
struct Checks {
    passed: usize,
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: String) {
        if ok {
            println!("check {name} ... ok ({detail})");
            self.passed += 1;
        } else {
            println!("check {name} ... FAILED: {detail}");
            self.failed.push(format!("{name}: {detail}"));
        }
    }
}

fn main() {
    let started = Instant::now();
    // Before any thread: the server, and DISPLAY pointing at it.
    let xvfb = Xvfb::start(3000, 2000);
    println!("Xvfb on display {}", xvfb.display());
    let roles = ThreadRoles::new();
    let bundle = ClapBundle::load(&bundle_path());
    let x = XHost::connect();
    let audio = AudioThread::spawn(&roles);
    let shots = shots_dir();
    std::fs::create_dir_all(&shots).expect("create the screenshot folder");
    let report_dir = tempfile::tempdir().expect("temporary report folder");

    let mut checks = Checks::default();
    for session in [Session::Clean, Session::Findings] {
        picture_session(
            session,
            &bundle,
            &roles,
            &x,
            &audio,
            report_dir.path(),
            &shots,
            &mut checks,
        );
    }
    drop(audio);
    drop(x);
    drop(xvfb);

    println!("screenshots in {}", shots.display());
    let failed = checks.failed.len();
    println!(
        "\ntest result: {}. {} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out; \
         finished in {:.2}s\n",
        if failed == 0 { "ok" } else { "FAILED" },
        checks.passed,
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        for f in &checks.failed {
            eprintln!("failed: {f}");
        }
        std::process::exit(1);
    }
}

/// Plays one session through three stems and a master, opens the pictured stem's editor and
/// the master's, and checks their pictures at the default and the large size.
#[allow(clippy::too_many_arguments)]
fn picture_session(
    session: Session,
    bundle: &ClapBundle,
    roles: &std::sync::Arc<ThreadRoles>,
    x: &XHost,
    audio: &AudioThread,
    report_dir: &Path,
    shots: &Path,
    checks: &mut Checks,
) {
    let tag = session.tag();
    let mut instances: Vec<GuiInstance> = STEMS
        .iter()
        .map(|(name, ..)| GuiInstance::new(bundle, PLUGIN_ID, name, roles))
        .collect();
    let mut master = GuiInstance::new(bundle, PLUGIN_ID, MASTER_NAME, roles);
    configure_master(&mut master, report_dir);
    instances.push(master);

    let mut tracks = Vec::new();
    for (i, instance) in instances.iter_mut().enumerate() {
        let input = match STEMS.get(i) {
            Some(&(_, freq, peak)) => {
                let hot = session == Session::Findings && i == PICTURED_STEM;
                notes(RATE, i, freq, if hot { 1.0 } else { peak })
            }
            None => Input::SumOfStems,
        };
        tracks.push(instance.activate(RATE, BLOCK as u32, input));
    }
    let playback = Playback::start(audio, tracks, RATE, BLOCK);
    // Two cycles of every stem before the editors open.
    run_main_loop(&mut instances, x, Duration::from_millis(1300));

    let master_index = instances.len() - 1;
    let pictured = [(PICTURED_STEM, "stem"), (master_index, "master")];
    let mut x_pos = 0i16;
    for &(index, _) in &pictured {
        let opened = instances[index].open_editor(x, (x_pos, 0), BACKGROUND);
        x_pos += LARGE.width as i16 + 20;
        let painted = wait_for_paint(
            &mut instances,
            x,
            &opened,
            BACKGROUND_RGB,
            FIRST_PAINT_TIMEOUT,
        );
        let name = format!("{}-{tag} first paint", instances[index].name());
        checks.check(
            &name,
            painted.is_some(),
            match painted {
                Some(t) => format!(
                    "{:.0} ms after show() at {}x{}",
                    t.as_secs_f64() * 1e3,
                    opened.size.width,
                    opened.size.height
                ),
                None => format!("still the background after {FIRST_PAINT_TIMEOUT:?}"),
            },
        );
    }
    // A few cycles of meters and the master's live verdict.
    run_main_loop(&mut instances, x, Duration::from_millis(1500));
    for &(index, role) in &pictured {
        // Each role opens at its own default size (the master asks the host for its larger
        // one when it finds itself at the stem's).
        let (w, h) = if role == "master" {
            stemcheck::plugin::editor::MASTER_SIZE
        } else {
            stemcheck::plugin::editor::STEM_SIZE
        };
        let want = GuiSize {
            width: w as u32,
            height: h as u32,
        };
        let got = instances[index].editor_size();
        checks.check(
            &format!("{}-{tag} default size", instances[index].name()),
            got == Some(want),
            format!("window {got:?}, the {role} default is {want:?}"),
        );
    }

    for size in ["default", "large"] {
        if size == "large" {
            for &(index, _) in &pictured {
                let got = instances[index].resize_editor(x, LARGE);
                checks.check(
                    &format!("{}-{tag} resized", instances[index].name()),
                    got == LARGE,
                    format!("asked {LARGE:?}, the editor took {got:?}"),
                );
            }
            run_main_loop(&mut instances, x, Duration::from_millis(1500));
        }
        for &(index, role) in &pictured {
            let window = instances[index]
                .editor_window()
                .expect("the editor is open");
            let first = x.capture(&window);
            // 0.35 s later: the bursts have moved on, so the meters must have too.
            run_main_loop(&mut instances, x, Duration::from_millis(350));
            let second = x.capture(&window);
            let file = shots.join(format!("{role}-{size}-{tag}.png"));
            second.save_png(&file);
            let (must, must_not) = expected_text(role, size, session);
            check_picture(
                checks,
                &format!("{role}-{size}-{tag}"),
                (&first, &second),
                &file,
                (&must, &must_not),
                session.verdict_rgb(),
            );
        }
    }

    if session == Session::Findings {
        saved_size_and_hidpi(bundle, roles, x, &mut instances, shots, checks);
    }

    for instance in &instances {
        let violations = instance.thread_violations();
        checks.check(
            &format!("{}-{tag} thread use", instance.name()),
            violations.is_empty() && !instance.editor_closed_by_plugin(),
            if violations.is_empty() {
                "host calls on the right threads, no editor closed itself".to_owned()
            } else {
                violations.join("; ")
            },
        );
    }
    for &(index, _) in &pictured {
        instances[index].close_editor(x);
    }
    let tracks = playback.stop();
    for (instance, track) in instances.iter_mut().zip(tracks) {
        instance.deactivate(track);
    }
}

/// The editor's size is saved with the session: a new instance loading the pictured stem's
/// state (saved after its editor was resized) opens at that size. And a host's scale factor
/// is honoured: at 2x the editor asks for twice the pixels and its text still reads.
fn saved_size_and_hidpi(
    bundle: &ClapBundle,
    roles: &std::sync::Arc<ThreadRoles>,
    x: &XHost,
    playing: &mut [GuiInstance],
    shots: &Path,
    checks: &mut Checks,
) {
    use common::state::StateIo;
    let saved = playing[PICTURED_STEM].save_state();
    let mut restored = GuiInstance::new(bundle, PLUGIN_ID, "restored", roles);
    restored
        .load_state(&saved)
        .expect("the plugin loads its own state");
    restored.open_editor(x, (0, 0), BACKGROUND);
    run_main_loop(
        std::slice::from_mut(&mut restored),
        x,
        Duration::from_millis(800),
    );
    let got = restored.editor_size();
    checks.check(
        "saved size restored",
        got == Some(LARGE),
        format!("a state saved at {LARGE:?} reopened at {got:?}"),
    );
    restored.close_editor(x);

    let mut hidpi = GuiInstance::new(bundle, PLUGIN_ID, "04_HiDPI", roles);
    hidpi.set_gui_scale(2.0);
    let opened = hidpi.open_editor(x, (0, 0), BACKGROUND);
    let (w, h) = stemcheck::plugin::editor::STEM_SIZE;
    let want = GuiSize {
        width: 2 * w as u32,
        height: 2 * h as u32,
    };
    checks.check(
        "hidpi size",
        opened.size == want,
        format!(
            "at scale 2 the editor asked for {:?} (want {want:?})",
            opened.size
        ),
    );
    let painted = wait_for_paint(
        std::slice::from_mut(&mut hidpi),
        x,
        &opened,
        BACKGROUND_RGB,
        FIRST_PAINT_TIMEOUT,
    );
    run_main_loop(
        std::slice::from_mut(&mut hidpi),
        x,
        Duration::from_millis(500),
    );
    let window = hidpi.editor_window().expect("the editor is open");
    let picture = x.capture(&window);
    let file = shots.join("stem-hidpi.png");
    picture.save_png(&file);
    let unpainted = picture.fraction_near(BACKGROUND_RGB, 8);
    let text = normalise_text(&picture.ocr(&ocr_work(&file), 1));
    checks.check(
        "hidpi picture",
        painted.is_some()
            && unpainted < 0.005
            && text.contains("04 hidpi")
            && text.contains("headroom"),
        format!(
            "{:.2} % unpainted; OCR read {:?}",
            unpainted * 100.0,
            text.chars().take(80).collect::<String>()
        ),
    );
    hidpi.close_editor(x);
}

/// The checks of one picture: `second`, saved at `file` (`first` was taken 0.35 s before it),
/// must show the words `must` and not `must_not`, and the verdict colour.
fn check_picture(
    checks: &mut Checks,
    shot: &str,
    (first, second): (&Picture, &Picture),
    file: &Path,
    (must, must_not): (&[String], &[&str]),
    verdict_rgb: [u8; 3],
) {
    let unpainted = second.fraction_near(BACKGROUND_RGB, 8);
    checks.check(
        &format!("{shot} painted"),
        unpainted < 0.005,
        format!(
            "{:.2} % of {}x{} px still the host's background",
            unpainted * 100.0,
            second.width(),
            second.height()
        ),
    );
    let colours = second.distinct_colours(20);
    checks.check(
        &format!("{shot} colours"),
        colours >= 8,
        format!("{colours} colours cover 20 px or more each"),
    );
    let verdict = second.count_near(verdict_rgb, 12);
    checks.check(
        &format!("{shot} verdict colour"),
        verdict >= VERDICT_PIXELS,
        format!("{verdict} px of {verdict_rgb:?} (want {VERDICT_PIXELS} or more)"),
    );
    // The meters fill the left column under the header: their sample-peak bars are there.
    let (w, h) = (second.width(), second.height());
    let meter_column = second.crop(0, h / 5, w * 2 / 5, h - h / 5);
    let bars = meter_column.count_near(SAMPLE_PEAK_RGB, 10);
    checks.check(
        &format!("{shot} meters"),
        bars >= 400,
        format!("{bars} px of sample-peak bars in the left column"),
    );
    let changed = first.differing_pixels(second, 8);
    checks.check(
        &format!("{shot} live"),
        changed >= 50,
        format!("{changed} px changed in 0.35 s of audio"),
    );

    // "ready to print" (the meter's headline) is not the READY verdict: left out of the match.
    let text = normalise_text(&second.ocr(&ocr_work(file), 2)).replace("ready to print", "");
    let missing: Vec<&String> = must.iter().filter(|w| !text.contains(w.as_str())).collect();
    let present: Vec<&&str> = must_not.iter().filter(|w| text.contains(*w)).collect();
    checks.check(
        &format!("{shot} text"),
        missing.is_empty() && present.is_empty(),
        format!(
            "OCR read {:?}{}{}",
            excerpt(&text, must),
            if missing.is_empty() {
                String::new()
            } else {
                format!("; missing {missing:?}")
            },
            if present.is_empty() {
                String::new()
            } else {
                format!("; should not say {present:?}")
            }
        ),
    );
}

/// Where the OCR input and text of a screenshot go: `ocr/` beside it.
fn ocr_work(file: &Path) -> PathBuf {
    let dir = file.parent().expect("a folder").join("ocr");
    dir.join(file.file_name().expect("a file name"))
}

/// The OCR text around the first word of `must` found in it, or its start.
fn excerpt(text: &str, must: &[String]) -> String {
    let at = must
        .iter()
        .filter_map(|w| text.find(w.as_str()))
        .min()
        .unwrap_or(0);
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(i, _)| i);
    text[start..].chars().take(200).collect()
}
