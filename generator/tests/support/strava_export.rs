//! A Strava bulk export ZIP built exactly like Strava's "Download your data", for the tests
//! of the command line import (`generator/tests/strava.rs`) and of the upload through the
//! daemon (`apiserver/tests/strava_e2e.rs`).

#![allow(dead_code)]

use std::path::Path;

/// A small GPX recording (1 Hz, moving north at `speed` m/s), gzipped like Strava's export.
pub fn gpx_gz(start: &str, n: usize, speed: f64) -> Vec<u8> {
    use std::io::Write;
    let t0 = time::OffsetDateTime::parse(start, &time::format_description::well_known::Rfc3339)
        .expect("start");
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"StravaGPX\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><name>From the file</name><type>cycling</type><trkseg>\n",
    );
    for k in 0..n {
        let t = t0 + time::Duration::seconds(k as i64);
        let ts = t.format(&time::format_description::well_known::Rfc3339).expect("fmt");
        let lat = 46.0 + k as f64 * speed / 111_000.0;
        s.push_str(&format!(
            "<trkpt lat=\"{lat:.6}\" lon=\"7.000000\"><ele>500</ele><time>{ts}</time></trkpt>\n"
        ));
    }
    s.push_str("</trkseg></trk></gpx>\n");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(s.as_bytes()).expect("gz");
    enc.finish().expect("gz")
}

/// A ZIP laid out like Strava's "Download your data": `activities.csv` with its duplicate
/// columns (display units first, SI second), a quoted multi-line description, files named by
/// upload id, a manual entry without a file, photos under `media/`, and other CSVs.
pub fn write_zip(path: &Path) {
    use std::io::Write;
    let f = std::fs::File::create(path).expect("zip");
    let mut z = zip::ZipWriter::new(f);
    let o = zip::write::SimpleFileOptions::default();
    let csv = "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,Athlete Weight,Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Average Speed,Elevation Gain,Elevation Loss,Average Heart Rate,Average Watts,Calories,Media\n\
111,\"Jun 1, 2024, 6:00:00 AM\",Morning Col,Ride,\"Hot day,\n\"\"epic\"\" climb\",1799,10.8,,,true,,Grey Steel,activities/555001.gpx.gz,,,1799,1799,10800.0,,,,,,,,media/aaa.jpg|media/bbb.jpg\n\
222,\"Jun 2, 2024, 5:30:00 PM\",Lunch Run,Run,,1199,3.6,,,false,,,activities/555002.gpx.gz,,,1199,1150,3600.0,,,,,,,,\n\
333,\"Jun 3, 2024, 7:20:00 AM\",Gym (manual),Weight Training,Legs day,3600,0,,,false,,,,,,3600,3600,0,,,,,,,,\n";
    z.start_file("activities.csv", o).expect("csv");
    z.write_all(csv.as_bytes()).expect("csv");
    z.start_file("profile.csv", o).expect("profile");
    z.write_all(b"Athlete ID,Email Address\n1,x@example.org\n").expect("profile");
    z.start_file("activities/555001.gpx.gz", o).expect("a1");
    z.write_all(&gpx_gz("2024-06-01T06:00:00Z", 1800, 6.0)).expect("a1");
    z.start_file("activities/555002.gpx.gz", o).expect("a2");
    z.write_all(&gpx_gz("2024-06-02T17:30:00Z", 1200, 3.0)).expect("a2");
    for name in ["media/aaa.jpg", "media/bbb.jpg"] {
        z.start_file(name, o).expect("jpg");
        z.write_all(b"\xff\xd8\xff\xe0\0\x10JFIF\0fake-jpeg-body").expect("jpg");
    }
    z.finish().expect("zip");
}
