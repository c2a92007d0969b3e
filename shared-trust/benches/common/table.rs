//! The table both bench binaries print: each figure goes to stderr as it is
//! measured, the whole table to stdout at the end.

/// One figure (or a section title, with an empty value).
pub struct Row {
    what: String,
    value: String,
    unit: &'static str,
    note: String,
}

/// The figures of one run.
#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}
impl Table {
    pub fn add(
        &mut self,
        what: impl Into<String>,
        value: String,
        unit: &'static str,
        note: impl Into<String>,
    ) {
        let row = Row {
            what: what.into(),
            value,
            unit,
            note: note.into(),
        };
        // Progress as we go: the whole run takes minutes.
        eprintln!(
            "  {:<58} {:>12} {:<8} {}",
            row.what, row.value, row.unit, row.note
        );
        self.rows.push(row);
    }

    pub fn section(&mut self, title: &str) {
        eprintln!("{title}");
        self.rows.push(Row {
            what: title.to_string(),
            value: String::new(),
            unit: "",
            note: String::new(),
        });
    }

    pub fn print(&self) {
        // Section titles (rows without a value) do not set the widths.
        let figures = || self.rows.iter().filter(|r| !r.value.is_empty());
        let w = figures().map(|r| r.what.chars().count()).max().unwrap_or(0);
        let v = figures().map(|r| r.value.len()).max().unwrap_or(0);
        println!();
        for r in &self.rows {
            if r.value.is_empty() {
                println!("{}", r.what);
            } else {
                println!("  {:<w$}  {:>v$} {:<8} {}", r.what, r.value, r.unit, r.note);
            }
        }
    }
}
