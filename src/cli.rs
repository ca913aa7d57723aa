//! Command-line definitions: the commands and the options they share.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  audience run                       export every segment of ./audience.yaml
  audience count --format json       members and recipients of every segment
  audience show loyal-100 --explain  what each condition of a segment keeps
  audience check --no-data           validate the YAML alone (fast, for CI)
  audience rfm --scores rfm.csv      RFM classes, and per-contact scores";

#[derive(Parser, Debug)]
#[command(name = "audience", version, about = "Turn contact and order exports into recipient lists, with segments kept as YAML files.", after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Project file, or a folder holding audience.yaml [default: ./audience.yaml]
    #[arg(long, global = true, value_name = "PATH")]
    pub project: Option<PathBuf>,
    /// Reference date for relative dates and recency (YYYY-MM-DD, or an offset such as -1m) [default: as_of in audience.yaml, else today]
    // `--as-of -1m` (as the help shows) is a value, not an unknown flag.
    #[arg(long, global = true, value_name = "DATE", allow_hyphen_values = true)]
    pub as_of: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SqlDialect {
    Duckdb,
    Postgres,
    Spark,
    Clickhouse,
    Bigquery,
    Snowflake,
}

impl SqlDialect {
    pub fn name(self) -> &'static str {
        match self {
            SqlDialect::Duckdb => "duckdb",
            SqlDialect::Postgres => "postgres",
            SqlDialect::Spark => "spark",
            SqlDialect::Clickhouse => "clickhouse",
            SqlDialect::Bigquery => "bigquery",
            SqlDialect::Snowflake => "snowflake",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A segment file (segments/*.yaml)
    Segment,
    /// The project file (audience.yaml)
    Project,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate segments and write each one's recipients to OUTPUT/ALIAS.csv
    #[command(
        after_help = "Examples:\n  audience run\n  audience run loyal-100 newsletter\n  audience run --union vip-tariff loyal-100 -o out/campaign.csv\n  audience run --union vip-tariff loyal-100 -o - | gzip > campaign.csv.gz\n  audience run --exclusive vip-tariff loyal-100 newsletter -o out/campaign\n  audience run --changes"
    )]
    Run {
        /// Segments to export [default: every segment file]
        #[arg(value_name = "ALIAS")]
        aliases: Vec<String>,
        /// Write one deduplicated list of the recipients of these segments (needs -o)
        #[arg(long, num_args = 1.., value_name = "ALIAS", conflicts_with = "aliases")]
        union: Vec<String>,
        /// Write these segments so that nobody is in two of them: each loses the recipients of those before it (needs -o DIR)
        #[arg(long, num_args = 1.., value_name = "ALIAS", conflicts_with_all = ["aliases", "union"])]
        exclusive: Vec<String>,
        /// The file for --union (`-` for standard output), or the folder for --exclusive
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Also write who was added and removed since each segment's last export, under OUTPUT/changes/
        #[arg(long, conflicts_with_all = ["union", "exclusive"])]
        changes: bool,
        /// Let an empty list replace a non-empty one (refused by default: an empty export is more often a broken input than a real result)
        #[arg(long)]
        allow_empty: bool,
    },
    /// Count members, recipients and the reasons between them
    #[command(after_help = "Examples:\n  audience count\n  audience count loyal-100 --format json")]
    Count {
        #[arg(value_name = "ALIAS")]
        aliases: Vec<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Show a segment's counts and its first recipients
    #[command(after_help = "Examples:\n  audience show newsletter\n  audience show loyal-100 --limit 5 --explain")]
    Show {
        #[arg(value_name = "ALIAS")]
        alias: String,
        /// How many recipients to list
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Count what each top-level condition keeps
        #[arg(long)]
        explain: bool,
        /// table: counts and recipients for reading; csv or json: the recipients alone on stdout, with the export's columns (the counts go to stderr)
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Validate segment files and the project file
    #[command(after_help = "Examples:\n  audience check\n  audience check --no-data segments/vip-tariff.yaml")]
    Check {
        /// Segment files or folders [default: the project's segments folder]
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Check the YAML alone, without reading the data
        #[arg(long)]
        no_data: bool,
        /// Treat warnings (a value no row of the data holds) as errors: exit 1
        #[arg(long)]
        strict: bool,
        #[arg(long, value_enum, default_value = "human")]
        format: CheckFormat,
    },
    /// Run the `expect:` checks of segments
    #[command(after_help = "Examples:\n  audience test\n  audience test loyal-100")]
    Test {
        #[arg(value_name = "ALIAS")]
        aliases: Vec<String>,
    },
    /// RFM classes of customers, and per-contact scores on request
    #[command(after_help = "Examples:\n  audience rfm\n  audience rfm --format csv\n  audience rfm --scores out/rfm.csv --plot out/rfm.svg")]
    Rfm {
        /// Write one row of scores per contact with orders (.csv, .parquet or .jsonl)
        #[arg(long, value_name = "FILE")]
        scores: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
        /// Draw the class table and the grid as an SVG chart
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
    /// Fit the clusters of `clusters:` in audience.yaml and describe them
    #[command(
        long_about = "Fit the clusters that audience.yaml's `clusters:` section asks for (k-means or DBSCAN over numeric fields) and describe them: per cluster its size and share, and the mean and standard deviation of each feature in its own units; then the silhouette and Davies–Bouldin scores of the model. With a range of k, each k is fitted and scored first, and the one of highest silhouette is kept.\n\nSegments use the result as the field `cluster`: 1 is the cluster of highest mean first feature, 2 the next, and so on (0 is DBSCAN's noise); contacts left out have no cluster.",
        after_help = "Examples:\n  audience clusters\n  audience clusters --format json\n  audience clusters --assign out/clusters.csv --plot out/clusters.svg"
    )]
    Clusters {
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
        /// Write each clustered contact's key, cluster and distance to its centroid (.csv, .parquet or .jsonl)
        #[arg(long, value_name = "FILE")]
        assign: Option<PathBuf>,
        /// Draw the contacts on the two features that best separate the clusters, as SVG
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
    /// How many recipients each pair of segments shares
    #[command(after_help = "Examples:\n  audience overlap\n  audience overlap vip-tariff loyal-100 newsletter --format csv")]
    Overlap {
        /// Segments to compare [default: every segment file]
        #[arg(value_name = "ALIAS")]
        aliases: Vec<String>,
        /// table: a matrix with each row's share; csv or json: one row per pair (a, b, shared, a_recipients, b_recipients)
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Compile segments to SQL for a warehouse, with the meaning `run` gives them
    #[command(
        long_about = "Compile segments to SQL: per segment one statement selecting its recipients with the list's columns (the normalised key first), ordered by the key, as `run` would write them. The schema comes from the local exports; `warehouse:` in audience.yaml names the relations (by default `contacts` and each table's name). Relative dates are written as the dates they mean on the project's as_of.\n\nA segment that the dialect cannot express (an SMS list, the `cluster` field…) is reported with its place; the other segments are still printed, and the exit status is 1.",
        after_help = "Examples:\n  audience sql loyal-100 champions-optin --dialect duckdb\n  audience sql loyal-100 newsletter --dialect postgres --counts\n  audience sql newsletter --dialect snowflake --materialize aud_ -o sql/\n  audience sql loyal-100 newsletter --dialect duckdb --dbt dbt/\n  audience sql loyal-100 champions-optin --dialect postgres --stage audience_stage -o sql/"
    )]
    Sql {
        /// Segments to compile [default: every segment file]
        #[arg(value_name = "ALIAS")]
        aliases: Vec<String>,
        /// The engine the SQL is for
        #[arg(long, value_enum)]
        dialect: SqlDialect,
        /// One statement giving per segment: alias, members, recipients, suppressed, no_consent, invalid_email
        #[arg(long, conflicts_with = "materialize")]
        counts: bool,
        /// Wrap each statement to (re)create a table PREFIXalias (dashes become underscores)
        #[arg(long, value_name = "PREFIX")]
        materialize: Option<String>,
        /// Write each statement to DIR/ALIAS.sql instead of standard output
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Write a dbt project fragment instead: models/audience/ALIAS.sql over dbt sources, sources.yml, schema.yml with tests
        #[arg(long, value_name = "DIR", conflicts_with_all = ["counts", "materialize", "output"])]
        dbt: Option<PathBuf>,
        /// Compute every aggregate once, in a first statement creating the table NAME (in dbt, the model NAME), which each segment's statement then reads: for many segments
        #[arg(long, value_name = "NAME", conflicts_with = "counts", value_parser = stage_name)]
        stage: Option<String>,
        /// Also write the relations the SQL reads, as `audience` read them (typed, trimmed, one row per key), to DIR/NAME.parquet: to try the SQL on a local engine
        #[arg(long, value_name = "DIR")]
        relations: Option<PathBuf>,
    },
    /// List every field a condition may use, with its type and sample values
    #[command(after_help = "Examples:\n  audience fields\n  audience fields --format csv")]
    Fields {
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Write a first audience.yaml and starter segments for the exports in a folder
    #[command(
        long_about = "Write a first audience.yaml and three starter segments for the exports (.csv, .tsv, .txt, .parquet) found in DIR and its subfolders.\n\nThe contacts are the export with an e-mail column holding the most distinct addresses; other exports whose column of keys mostly names contacts become tables, with their date, amount and id columns guessed from types and names. Each guess is written as a comment and printed with its reason. Existing files are never overwritten.",
        after_help = "Examples:\n  audience init\n  audience init exports/"
    )]
    Init {
        /// The folder of exports, where audience.yaml is written
        #[arg(value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// The distinct values of a field with their counts, most frequent first
    #[command(
        long_about = "The distinct values of a field with their counts, most frequent first.\n\nFIELD is a contacts column, a built-in metric, a metric of audience.yaml, an RFM field, or TABLE.column for a table's rows that count (its `where` applied). Text values that differ only by case or accents are counted as one, as `eq` and `in` match them, and their spellings are listed.",
        after_help = "Examples:\n  audience values orders.event\n  audience values orders.tariff --limit 0\n  audience values rfm_class --format csv"
    )]
    Values {
        #[arg(value_name = "FIELD")]
        field: String,
        /// How many values to list, most frequent first (0 for all)
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Print shell completions for audience
    #[command(
        after_help = "Examples:\n  audience completions bash > ~/.local/share/bash-completion/completions/audience\n  audience completions zsh > ~/.zfunc/_audience\n  audience completions fish > ~/.config/fish/completions/audience.fish"
    )]
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema of segment files or of audience.yaml, for editors
    #[command(
        long_about = "Print the JSON Schema (draft 2020-12) of segment files or of audience.yaml.\n\nEditors that read schemas (VS Code with the YAML extension, JetBrains IDEs, Neovim with yaml-language-server) then complete keys and flag mistakes as you type. The project ships both under schema/; a first line such as\n\n  # yaml-language-server: $schema=../schema/segment.schema.json\n\nin a segment file points the editor at it.",
        after_help = "Examples:\n  audience schema segment > schema/segment.schema.json\n  audience schema project > schema/project.schema.json"
    )]
    Schema {
        #[arg(value_enum, value_name = "FILE")]
        kind: SchemaKind,
    },
    /// Print the manual page (roff) of audience
    #[command(after_help = "Examples:\n  audience man > ~/.local/share/man/man1/audience.1")]
    Man,
}

/// A stage table's name: letters, digits and `_`, with dots between a
/// schema and the table; it names a dbt model too, so no quoting is needed.
fn stage_name(s: &str) -> Result<String, String> {
    let part_ok = |p: &str| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit()) && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if s.split('.').all(part_ok) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a table name: use letters, digits and `_` (not first), with dots between schema and table, as in `audience_stage` or `mkt.audience_stage`"))
    }
}
