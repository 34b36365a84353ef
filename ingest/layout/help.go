package layout

// LayoutHelp documents the template syntax and the phase forms; the CLI
// prints it in --help.
const LayoutHelp = `A layout is a template matched against each file's path relative to the
inbox, folder levels separated by '/':
  {patient}  the patient's name: one or more characters within one level
  {id}       the patient's ID (medical record or chart number): letters or
             digits, possibly joined by - or . (A-1234, 12.345); set off
             from the rest by '/' or a character an ID cannot hold: a space,
             _ or parentheses
  {phase}    the phase, in any case: before, after, intraop or followup,
             a synonym (pre, preop, pre-op, pre op; post, postop, post-op,
             post op; intra, intra-op; follow-up, fu), or a time point:
             6mo, 6 months, 1 year, 1yr, 2wk, 3 wks, 10 days (a follow-up),
             alone or with a phase word: 2 weeks post, post op 6 mo,
             3 months after. 1.5 years is read as 18 months; other
             fractions are refused. The time point is released as an
             ISO 8601 interval (2 weeks post: followup, P2W) in index.csv.
             A practice adds its own words with --phase-alias
             WORD=PHASE[:INTERVAL], repeatable: --phase-alias vorher=before,
             --phase-alias recheck=followup:P6W; an alias may not change
             what a built-in word means.
  *          any text (possibly none) within one level
  **/        any number of folder levels (only as a whole level)
  anything else is literal text, matched without regard to case.
{phase} must appear exactly once, and {patient} or {id} or both, once each.

With {id}, the ID alone says who the patient is: the name beside it is only
for staff. Without it, the name is the patient, compared without regard to
case, spaces, underscores or full-width letters but with its accents:
"Jane  DOE" and "jane_doe" are one patient, "José" and "Jose" are not.
A name that equals a patient's name already in the vault only when accents,
ß/ss, hyphens and punctuation or the order of the names are ignored (Jose
Garcia after José Garcia, "Lee, Ann" after Ann Lee) is neither merged nor
made a new patient: its files are held in quarantine (similar-name) until
staff rename the folder to the spelling used before, or, for two different
people, give the patients IDs.
Two patients with the same name REQUIRE an ID: new installs should use the
layout with an ID, {patient} ({id})/{phase}/*. (Patients ingested under a
name-only layout get a new subject code under their ID.)

When a name could be split several ways, the split whose {phase} is a
phase wins, so "Mary_Ann_pre_1.jpg" under {patient}_{phase}_* is Mary Ann,
before.
Examples:
  {patient} ({id})/{phase}/*   Jane Doe (483920)/before/IMG_0001.jpg
  {id}_{patient}/{phase}/*     483920_Jane Doe/6 months/IMG_0002.jpg
  {id}/{phase}/*               483920/post op 2wk/a.jpg
  {patient}/{phase}/*          Jane Doe/before/IMG_0001.jpg
  {patient}_{phase}_*          Jane Doe_pre_0001.jpg
  {patient}/{phase}-*          jane doe/post-op-2.png
  **/{patient}/{phase}/*       2026/clinic-2/Jane Doe/after/a.webp
  {patient}/*/{phase}/*        Jane Doe/rhinoplasty/before/a.jpg`
