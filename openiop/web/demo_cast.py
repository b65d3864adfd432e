"""The fictional cast of the demo clinic. Every name is invented and meant to look it."""

from __future__ import annotations

DEMO_PASSWORD = "openiop-demo"

# username, first, last, role, credentials, sites ("R" Riverbend, "C" Cedar Hollow)
STAFF: list[tuple[str, str, str, str, str, str]] = [
    ("director", "Perpetua", "Wintergreen", "director", "PsyD", "RC"),
    ("admin", "Barnaby", "Cogsworth", "admin", "", "RC"),
    ("auditor", "Hortensia", "Ledgerly", "auditor", "", ""),
    ("intake", "Clementine", "Doorwright", "intake", "", "R"),
    ("intake2", "Fennimore", "Welcomb", "intake", "", "C"),
    ("clinician", "Juniper", "Groveheart", "clinician", "LCSW", "R"),
    ("clinician2", "Thaddeus", "Quillfeather", "clinician", "LPC", "R"),
    ("clinician3", "Marisol", "Brightwater", "clinician", "LMFT", "C"),
    ("casemanager", "Odalys", "Pathfinder", "case_manager", "CADC", "R"),
    ("casemanager2", "Rupert", "Helmsley", "case_manager", "", "C"),
    ("prescriber", "Ignatius", "Remedy", "prescriber", "MD", "RC"),
    ("billing", "Prudence", "Abacus", "billing", "", ""),
]

FIRST_NAMES = [
    "Aurelio", "Bexley", "Calliope", "Dashiell", "Evander", "Florentine", "Gideon", "Halcyon",
    "Isolde", "Jasper", "Kestrel", "Lysander", "Marlowe", "Nimue", "Orsino", "Pimpernel",
    "Quintessa", "Rosalind", "Sorrel", "Tamsin", "Ulysses", "Verbena", "Wystan", "Xanthe",
    "Yarrow", "Zinnia", "Albus", "Bramble", "Cosima", "Drystan", "Elowen", "Fitzgerald",
    "Galadria", "Horatio", "Ingrid", "Jolyon", "Kit", "Lark", "Mercutio", "Nerys",
]
LAST_NAMES = [
    "Applebough", "Bramblethorn", "Candlewick", "Dewberry", "Elderflower", "Fiddlewood", "Gooseberry",
    "Hazelnut", "Inkwell", "Jellicoe", "Kettleburn", "Lanternfly", "Moonwhistle", "Nettlebed",
    "Oakenshield", "Puddlefoot", "Quibbleton", "Rumbleford", "Snapdragon", "Thistledown",
    "Underbough", "Vervain", "Whistlewood", "Yellowhammer", "Zestwick",
]

CURRICULUM_ADULT = [
    ("Understanding triggers and cravings", "RP"),
    ("Cognitive distortions", "CBT"),
    ("Distress tolerance: TIPP and ACCEPTS", "DBT"),
    ("Motivation and values", "MI"),
    ("Emotion regulation", "DBT"),
    ("Healthy relationships and boundaries", "CBT"),
    ("Relapse prevention planning", "RP"),
    ("Steps 1-3 and mutual-help meetings", "12-step"),
]
CURRICULUM_TEEN = [
    ("Feelings and where they live in the body", "DBT"),
    ("Thinking traps", "CBT"),
    ("Handling peer pressure", "RP"),
    ("Family communication", "Family"),
    ("Mindfulness for busy minds", "DBT"),
    ("School stress and sleep", "CBT"),
]
