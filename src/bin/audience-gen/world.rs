//! The fixed facts of the story: names, places, events, prices, campaigns.
//! Everything the generator draws from lives here, so the report of what a
//! segment may refer to (event names, tariffs, codes) is this one file.

use chrono::NaiveDate;

/// The sample's reference date; nothing is dated on or after it.
pub const AS_OF: (i32, u32, u32) = (2025, 11, 30);
/// The last day anything happens.
pub const LAST_DAY: (i32, u32, u32) = (2025, 11, 29);
/// Contacts arrive (sign up) from this day on.
pub const FIRST_SIGNUP: (i32, u32, u32) = (2018, 1, 8);

pub fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid calendar date in the story")
}

pub const FEMALE: &[&str] = &[
    "Marie",
    "Camille",
    "Léa",
    "Chloé",
    "Manon",
    "Emma",
    "Inès",
    "Sarah",
    "Julie",
    "Laura",
    "Élodie",
    "Hélène",
    "Céline",
    "Aurélie",
    "Émilie",
    "Anaïs",
    "Zoé",
    "Maëlle",
    "Gaëlle",
    "Noémie",
    "Clémence",
    "Océane",
    "Mélanie",
    "Sophie",
    "Nathalie",
    "Isabelle",
    "Sandrine",
    "Valérie",
    "Christine",
    "Catherine",
    "Françoise",
    "Monique",
    "Sylvie",
    "Véronique",
    "Delphine",
    "Stéphanie",
    "Virginie",
    "Agnès",
    "Brigitte",
    "Margaux",
    "Juliette",
    "Louise",
    "Alice",
    "Lucie",
    "Pauline",
    "Mathilde",
    "Charlotte",
    "Anne",
    "Claire",
    "Jeanne",
    "Léna",
    "Jade",
    "Ambre",
    "Élise",
    "Bérénice",
    "Solène",
    "Maud",
    "Laëtitia",
    "Geneviève",
    "Anne-Sophie",
    "Marie-Claire",
    "Nadia",
    "Fatima",
    "Yasmine",
    "Lina",
];

pub const MALE: &[&str] = &[
    "Jean",
    "Pierre",
    "Nicolas",
    "Julien",
    "Thomas",
    "Antoine",
    "Alexandre",
    "Maxime",
    "Hugo",
    "Lucas",
    "Louis",
    "Gabriel",
    "Théo",
    "Mathéo",
    "Noé",
    "Raphaël",
    "Clément",
    "Jérôme",
    "François",
    "Frédéric",
    "Stéphane",
    "Sébastien",
    "Benoît",
    "Loïc",
    "Hervé",
    "Grégoire",
    "Cédric",
    "Olivier",
    "Philippe",
    "Patrick",
    "Michel",
    "Alain",
    "Bernard",
    "Christophe",
    "Laurent",
    "Éric",
    "David",
    "Vincent",
    "Guillaume",
    "Romain",
    "Arnaud",
    "Damien",
    "Fabrice",
    "Jean-Pierre",
    "Jean-François",
    "Jean-Marc",
    "Yves",
    "Gérard",
    "Rémi",
    "Bastien",
    "Quentin",
    "Adrien",
    "Baptiste",
    "Étienne",
    "Matthieu",
    "Anthony",
    "Kévin",
    "Mehdi",
    "Karim",
    "Yannick",
    "Joël",
    "Gaël",
    "Aurélien",
    "Sylvain",
];

pub const LAST: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefebvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Gérard",
    "Nguyen",
    "Boyer",
    "Denis",
    "Lemaire",
    "Duval",
    "Joly",
    "Gautier",
    "Roger",
    "Roche",
    "Roy",
    "Noël",
    "Meyer",
    "Lucas",
    "Meunier",
    "Pérez",
    "Marchand",
    "Dufour",
    "Blanchard",
    "Barbier",
    "Brun",
    "Dumas",
    "Brunet",
    "Schmitt",
    "Leroux",
    "Colin",
    "Fernandez",
    "Renard",
    "Arnaud",
    "Rolland",
    "Caron",
    "Aubert",
    "Giraud",
    "Leclerc",
    "Vidal",
    "Bourgeois",
    "Renaud",
    "Lemoine",
    "Picard",
    "Gaillard",
    "Leclercq",
    "Lacroix",
    "Fabre",
    "Dupuis",
    "Olivier",
    "Rodriguez",
    "Da Silva",
    "Hubert",
    "Charles",
    "Guillot",
    "Rivière",
    "Le Gall",
    "Guillaume",
    "Adam",
    "Rey",
    "Moulin",
    "Gonzalez",
    "Berger",
    "Lecomte",
    "Ménard",
    "Fleury",
    "Deschamps",
    "Carpentier",
    "Julien",
    "Benoît",
    "Maillard",
    "Marchal",
    "Aubry",
    "Vasseur",
    "Le Roux",
    "Renault",
    "Jacquet",
    "Collet",
    "Prévost",
    "Poirier",
    "Charpentier",
    "Royer",
    "Huet",
    "Baron",
    "Dupuy",
    "Pons",
    "Carré",
    "Breton",
    "Rémy",
    "Schneider",
    "Perrot",
    "Barré",
    "Marty",
    "Cousin",
    "Lebrun",
    "Besnard",
    "Hoarau",
    "Léger",
    "Bouvier",
    "Bailly",
    "Collin",
    "Hamon",
    "Lemaître",
    "Étienne",
    "Camus",
    "Pelletier",
    "Thibault",
    "Hébert",
    "Chauvin",
    "Bouchet",
    "Chrétien",
    "N'Diaye",
    "D'Almeida",
    "Saint-Martin",
    "Cordier",
    "Géraud",
    "Benali",
    "Haddad",
    "Diallo",
];

/// Where a contact lives. Postal codes are text: many French ones start with 0.
pub struct Place {
    pub postal: &'static str,
    pub city: &'static str,
    pub region: &'static str,
    pub country: &'static str,
    pub weight: u32,
}

const fn p(postal: &'static str, city: &'static str, region: &'static str, weight: u32) -> Place {
    Place { postal, city, region, country: "France", weight }
}
const fn abroad(postal: &'static str, city: &'static str, country: &'static str, weight: u32) -> Place {
    Place { postal, city, region: "", country, weight }
}

const ARA: &str = "Auvergne-Rhône-Alpes";
const BFC: &str = "Bourgogne-Franche-Comté";
const BRE: &str = "Bretagne";
const CVL: &str = "Centre-Val de Loire";
const COR: &str = "Corse";
const GES: &str = "Grand Est";
const HDF: &str = "Hauts-de-France";
const IDF: &str = "Île-de-France";
const NOR: &str = "Normandie";
const NAQ: &str = "Nouvelle-Aquitaine";
const OCC: &str = "Occitanie";
const PDL: &str = "Pays de la Loire";
const PAC: &str = "Provence-Alpes-Côte d'Azur";

/// The organiser is in Lyon, so the Rhône-Alpes area weighs most.
pub const PLACES: &[Place] = &[
    p("69001", "Lyon", ARA, 40),
    p("69002", "Lyon", ARA, 40),
    p("69003", "Lyon", ARA, 55),
    p("69004", "Lyon", ARA, 35),
    p("69005", "Lyon", ARA, 30),
    p("69006", "Lyon", ARA, 45),
    p("69007", "Lyon", ARA, 50),
    p("69008", "Lyon", ARA, 35),
    p("69009", "Lyon", ARA, 30),
    p("69100", "Villeurbanne", ARA, 55),
    p("69500", "Bron", ARA, 15),
    p("69200", "Vénissieux", ARA, 15),
    p("69130", "Écully", ARA, 8),
    p("69300", "Caluire-et-Cuire", ARA, 12),
    p("69400", "Villefranche-sur-Saône", ARA, 10),
    p("01000", "Bourg-en-Bresse", ARA, 14),
    p("01100", "Oyonnax", ARA, 5),
    p("01300", "Belley", ARA, 3),
    p("03100", "Montluçon", ARA, 4),
    p("03000", "Moulins", ARA, 3),
    p("07000", "Privas", ARA, 3),
    p("07100", "Annonay", ARA, 4),
    p("26000", "Valence", ARA, 10),
    p("38000", "Grenoble", ARA, 28),
    p("38200", "Vienne", ARA, 8),
    p("42000", "Saint-Étienne", ARA, 22),
    p("42300", "Roanne", ARA, 5),
    p("63000", "Clermont-Ferrand", ARA, 12),
    p("73000", "Chambéry", ARA, 8),
    p("74000", "Annecy", ARA, 12),
    p("74100", "Annemasse", ARA, 4),
    p("75001", "Paris", IDF, 4),
    p("75005", "Paris", IDF, 6),
    p("75008", "Paris", IDF, 4),
    p("75011", "Paris", IDF, 9),
    p("75012", "Paris", IDF, 6),
    p("75015", "Paris", IDF, 9),
    p("75017", "Paris", IDF, 6),
    p("75018", "Paris", IDF, 7),
    p("75020", "Paris", IDF, 7),
    p("92100", "Boulogne-Billancourt", IDF, 4),
    p("93100", "Montreuil", IDF, 4),
    p("94000", "Créteil", IDF, 2),
    p("78000", "Versailles", IDF, 3),
    p("91000", "Évry-Courcouronnes", IDF, 2),
    p("95000", "Cergy", IDF, 2),
    p("77000", "Melun", IDF, 2),
    p("06000", "Nice", PAC, 10),
    p("06400", "Cannes", PAC, 4),
    p("06600", "Antibes", PAC, 3),
    p("06500", "Menton", PAC, 1),
    p("06130", "Grasse", PAC, 2),
    p("04000", "Digne-les-Bains", PAC, 2),
    p("05000", "Gap", PAC, 2),
    p("13001", "Marseille", PAC, 7),
    p("13006", "Marseille", PAC, 6),
    p("13008", "Marseille", PAC, 5),
    p("13100", "Aix-en-Provence", PAC, 5),
    p("13200", "Arles", PAC, 2),
    p("83000", "Toulon", PAC, 3),
    p("84000", "Avignon", PAC, 4),
    p("02100", "Saint-Quentin", HDF, 2),
    p("02000", "Laon", HDF, 1),
    p("59000", "Lille", HDF, 8),
    p("59100", "Roubaix", HDF, 2),
    p("80000", "Amiens", HDF, 2),
    p("62000", "Arras", HDF, 1),
    p("08000", "Charleville-Mézières", GES, 2),
    p("10000", "Troyes", GES, 2),
    p("51100", "Reims", GES, 3),
    p("54000", "Nancy", GES, 3),
    p("57000", "Metz", GES, 3),
    p("67000", "Strasbourg", GES, 6),
    p("68000", "Colmar", GES, 2),
    p("68100", "Mulhouse", GES, 2),
    p("09000", "Foix", OCC, 1),
    p("31000", "Toulouse", OCC, 8),
    p("34000", "Montpellier", OCC, 7),
    p("30000", "Nîmes", OCC, 3),
    p("66000", "Perpignan", OCC, 2),
    p("34500", "Béziers", OCC, 1),
    p("12000", "Rodez", OCC, 1),
    p("81000", "Albi", OCC, 1),
    p("33000", "Bordeaux", NAQ, 7),
    p("64000", "Pau", NAQ, 2),
    p("64100", "Bayonne", NAQ, 2),
    p("17000", "La Rochelle", NAQ, 2),
    p("87000", "Limoges", NAQ, 2),
    p("86000", "Poitiers", NAQ, 2),
    p("16000", "Angoulême", NAQ, 1),
    p("24000", "Périgueux", NAQ, 1),
    p("44000", "Nantes", PDL, 6),
    p("49000", "Angers", PDL, 3),
    p("72000", "Le Mans", PDL, 2),
    p("85000", "La Roche-sur-Yon", PDL, 1),
    p("35000", "Rennes", BRE, 5),
    p("29200", "Brest", BRE, 2),
    p("56000", "Vannes", BRE, 1),
    p("35400", "Saint-Malo", BRE, 1),
    p("29000", "Quimper", BRE, 1),
    p("21000", "Dijon", BFC, 6),
    p("25000", "Besançon", BFC, 4),
    p("71000", "Mâcon", BFC, 5),
    p("71100", "Chalon-sur-Saône", BFC, 3),
    p("89000", "Auxerre", BFC, 1),
    p("39000", "Lons-le-Saunier", BFC, 2),
    p("45000", "Orléans", CVL, 3),
    p("37000", "Tours", CVL, 3),
    p("28000", "Chartres", CVL, 1),
    p("18000", "Bourges", CVL, 1),
    p("76000", "Rouen", NOR, 3),
    p("14000", "Caen", NOR, 3),
    p("76600", "Le Havre", NOR, 2),
    p("20000", "Ajaccio", COR, 1),
    p("20200", "Bastia", COR, 1),
    abroad("1000", "Bruxelles", "Belgique", 22),
    abroad("4000", "Liège", "Belgique", 8),
    abroad("5000", "Namur", "Belgique", 4),
    abroad("9000", "Gent", "Belgique", 5),
    abroad("1201", "Genève", "Suisse", 22),
    abroad("1003", "Lausanne", "Suisse", 10),
    abroad("8001", "Zürich", "Suisse", 4),
    abroad("6900", "Lugano", "Suisse", 2),
    abroad("1150", "Luxembourg", "Luxembourg", 6),
    abroad("10115", "Berlin", "Allemagne", 5),
    abroad("80331", "München", "Allemagne", 3),
    abroad("28001", "Madrid", "Espagne", 4),
    abroad("08001", "Barcelona", "Espagne", 3),
    abroad("20121", "Milano", "Italie", 4),
    abroad("10121", "Torino", "Italie", 2),
    abroad("SW1A 1AA", "London", "Royaume-Uni", 4),
    abroad("1012 AB", "Amsterdam", "Pays-Bas", 3),
    abroad("3011 AA", "Rotterdam", "Pays-Bas", 1),
];

pub const LANGUAGES: &[&str] = &["fr", "en", "de", "es", "it", "nl"];
pub const DEVICES: &[&str] = &["desktop", "mobile", "tablet"];
pub const DEVICE_WEIGHTS: &[u32] = &[38, 52, 10];
pub const CIVILITIES: &[&str] = &["M.", "Mme"];
pub const NEWSLETTER: &[&str] = &["oui", "non"];

/// Language weights (same order as LANGUAGES) by country.
pub fn language_weights(country: &str) -> [u32; 6] {
    match country {
        "France" => [970, 18, 4, 3, 3, 2],
        "Belgique" => [70, 3, 2, 0, 0, 25],
        "Suisse" => [68, 4, 22, 0, 6, 0],
        "Luxembourg" => [60, 10, 30, 0, 0, 0],
        "Allemagne" => [10, 10, 80, 0, 0, 0],
        "Espagne" => [10, 10, 0, 80, 0, 0],
        "Italie" => [10, 10, 0, 0, 80, 0],
        "Royaume-Uni" => [5, 95, 0, 0, 0, 0],
        "Pays-Bas" => [5, 15, 0, 0, 0, 80],
        _ => [50, 50, 0, 0, 0, 0],
    }
}

pub const DOMAINS: &[(&str, u32)] = &[
    ("gmail.com", 300),
    ("orange.fr", 140),
    ("hotmail.fr", 90),
    ("free.fr", 80),
    ("yahoo.fr", 60),
    ("wanadoo.fr", 50),
    ("sfr.fr", 40),
    ("laposte.net", 40),
    ("outlook.fr", 40),
    ("hotmail.com", 30),
    ("icloud.com", 30),
    ("live.fr", 20),
    ("gmx.fr", 10),
    ("neuf.fr", 10),
    ("bbox.fr", 10),
    ("proton.me", 10),
];

/// A mail provider of the contact's own country, if it has a typical one.
pub fn local_domain(country: &str) -> Option<&'static [&'static str]> {
    Some(match country {
        "Belgique" => &["skynet.be", "telenet.be", "proximus.be"],
        "Suisse" => &["bluewin.ch", "gmx.ch"],
        "Luxembourg" => &["pt.lu"],
        "Allemagne" => &["web.de", "gmx.de", "t-online.de"],
        "Espagne" => &["hotmail.es", "yahoo.es"],
        "Italie" => &["libero.it", "virgilio.it"],
        "Royaume-Uni" => &["btinternet.com", "outlook.com"],
        "Pays-Bas" => &["ziggo.nl", "kpnmail.nl"],
        _ => return None,
    })
}

/// Indexes: the first four are also the order of tariff weights in orders.rs.
pub const TARIFFS: &[&str] = &["Plein tarif", "Tarif réduit", "Étudiant", "VIP", "Jeune public", "Invitation"];
pub const PLEIN: usize = 0;
pub const REDUIT: usize = 1;
pub const VIP: usize = 3;
pub const JEUNE: usize = 4;
pub const INVITATION: usize = 5;

pub const STATUSES: &[&str] = &["active", "scanned", "refunded", "not validated"];
pub const ACTIVE: usize = 0;
pub const SCANNED: usize = 1;
pub const REFUNDED: usize = 2;
pub const NOT_VALIDATED: usize = 3;

pub const POINTS_OF_SALE: &[&str] = &["web", "box office", "partner:fnac", "partner:ticketmaster", "partner:billetreduc"];
pub const POS_WEIGHTS: &[u32] = &[60, 18, 12, 8, 2];
pub const WEB: usize = 0;
pub const BOX_OFFICE: usize = 1;

pub const PROMO_CODES: &[&str] = &["EARLY25", "LUMIERES10", "JAZZ5", "FIDELITE15"];
pub const EARLY25: usize = 0;
pub const LUMIERES10: usize = 1;
pub const JAZZ5: usize = 2;
pub const FIDELITE15: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Festival,
    Jazz,
    Salon,
    Theatre,
}

pub struct Event {
    pub name: &'static str,
    pub family: Family,
    pub sale_start: (i32, u32, u32),
    pub edition: (i32, u32, u32),
    /// How much demand the event draws, relative to the others.
    pub popularity: u32,
    /// Prices in cents: Plein tarif, Tarif réduit, Étudiant, VIP, Jeune public.
    pub prices: [i64; 5],
}

const fn ev(name: &'static str, family: Family, sale_start: (i32, u32, u32), edition: (i32, u32, u32), popularity: u32, euros: [i64; 5]) -> Event {
    let prices = [euros[0] * 100, euros[1] * 100, euros[2] * 100, euros[3] * 100, euros[4] * 100];
    Event { name, family, sale_start, edition, popularity, prices }
}

/// In chronological order of their editions.
pub const EVENTS: &[Event] = &[
    ev("Festival Lumières 2023", Family::Festival, (2023, 1, 10), (2023, 7, 7), 32, [42, 34, 22, 119, 12]),
    ev("Théâtre d'Hiver 2023", Family::Theatre, (2023, 9, 15), (2023, 12, 8), 11, [29, 24, 16, 72, 11]),
    ev("Salon du Livre 2024", Family::Salon, (2023, 12, 1), (2024, 3, 23), 12, [12, 8, 6, 35, 4]),
    ev("Festival Lumières 2024", Family::Festival, (2024, 1, 9), (2024, 7, 5), 56, [45, 36, 24, 129, 14]),
    ev("Jazz au Parc 2024", Family::Jazz, (2024, 4, 2), (2024, 9, 14), 22, [28, 22, 15, 65, 10]),
    ev("Théâtre d'Hiver 2024", Family::Theatre, (2024, 9, 16), (2024, 12, 13), 15, [32, 26, 18, 75, 12]),
    ev("Salon du Livre 2025", Family::Salon, (2024, 12, 2), (2025, 3, 22), 15, [13, 9, 6, 38, 4]),
    ev("Festival Lumières 2025", Family::Festival, (2025, 1, 14), (2025, 7, 4), 66, [49, 39, 26, 139, 15]),
    ev("Jazz au Parc 2025", Family::Jazz, (2025, 4, 1), (2025, 9, 13), 24, [30, 24, 16, 69, 10]),
    ev("Théâtre d'Hiver 2025", Family::Theatre, (2025, 9, 15), (2025, 12, 12), 16, [34, 28, 18, 79, 12]),
];

pub struct Campaign {
    pub name: &'static str,
    pub sent: (i32, u32, u32),
    /// Multiplies the click rate: a last-call mail gets more clicks than a newsletter.
    pub click_factor: f64,
}

/// In the order they were sent.
pub const CAMPAIGNS: &[Campaign] = &[
    Campaign { name: "Lumières 2025 – ouverture billetterie", sent: (2025, 1, 14), click_factor: 1.3 },
    Campaign { name: "Salon du Livre 2025 – J-15", sent: (2025, 3, 7), click_factor: 0.8 },
    Campaign { name: "Jazz au Parc 2025 – ouverture", sent: (2025, 4, 1), click_factor: 1.0 },
    Campaign { name: "Lumières 2025 – dernière chance", sent: (2025, 6, 24), click_factor: 1.4 },
    Campaign { name: "Newsletter septembre 2025", sent: (2025, 9, 4), click_factor: 0.7 },
    Campaign { name: "Théâtre d'Hiver 2025 – programmation", sent: (2025, 9, 16), click_factor: 1.0 },
    Campaign { name: "Newsletter novembre 2025", sent: (2025, 11, 6), click_factor: 0.7 },
];

/// Indexes: hard, soft, complaint.
pub const BOUNCE_REASONS: &[&str] = &["hard", "soft", "complaint"];
pub const HARD: usize = 0;
pub const SOFT: usize = 1;

/// Relative chance of an order at each hour of the day, for online sales.
pub const WEB_HOURS: [u32; 24] = [2, 1, 0, 0, 0, 0, 1, 3, 5, 6, 7, 8, 10, 9, 7, 6, 6, 7, 9, 11, 12, 11, 7, 3];
/// Box office opening hours.
pub const DESK_HOURS: [u32; 24] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 5, 3, 5, 6, 6, 6, 5, 3, 0, 0, 0, 0];
