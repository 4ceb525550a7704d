"""Words that look like names and are not: the word lists behind `persons.py`.

Owns the stop lists for name detection from wording: sentence openers and
imperatives, organisation/place/study nouns ("Task Force", "Glasgow Coma
Scale"), English word endings no personal name has ("Multivariate",
"Prospective"), eponym heads ("Cox regression", "Doppler ultrasound") and
the words that follow "my patient" in lower-case compounds ("patient care").
Plain data; `persons.py` applies it.
"""

from __future__ import annotations

# Words that can follow a relation word with a capital but are not names.
NOT_NAMES = frozenset("""
I The A An This That These Those He She It They We You His Her Their Our My Your Who Whom Whose Which What
When Where Why How Has Have Had Is Was Are Were Will Would Can Could Should May Might Must Do Does Did And Or
But With At In On From Of For To By As If Then So Not No Yes Portal Services Service Support Team Account ID
Number Record Records Care Relations Experience Success Data Information Details Profile Name Names Monday
Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
September October November December Today Tomorrow Yesterday All Every Each Some Any Please Thanks Thank
Dr Mr Mrs Ms Miss Mx Prof Doctor Professor Nurse Sir Madam
""".split())
# Capitalised words that start sentences, name places, organisations or conditions: not people.
NOT_PERSON_WORDS = NOT_NAMES | frozenset("""
Write Draft Summarise Summarize Translate Remind Format Prepare Ask Send Tell Check Make Book Fill Find Attach Add
Explain Help Give Create Generate Compare List Show Let Set Get Use Update Verify Register Rewrite Forward Remember
Call Text Email Mail Leave Transfer Pay Charge Block Cancel Review Read Plan Schedule Note Notes Summary Subject
Dear Hi Hello Regards Kind Best Sincerely Cheers Re Fwd Patient Client Customer Employee Member Holder Name Date
Diagnosis Assessment History Complaint Allergies Medications Labs Vitals Discharge Admission Referral Letter
Type Stage Grade Phase Level Mount Saint St Lake River New North South East West Hospital Clinic University Bank Inc
Corp Ltd LLC Street Avenue Road Health Medical Center Centre Institute Foundation Group Department Ministry Council
School College Church Disease Syndrome Cancer Services Office Court Police Insurance Airlines Hotel Company Trust
Fund Capital Partners Labs Systems Software Solutions Global International National Royal General County Republic
Kingdom United Union Association Society Club Press News Times Journal HR IT CEO CFO CTO VP English Spanish French
German Italian Portuguese Dutch Chinese Japanese Russian Arabic American British European Christmas Easter Google
Microsoft Apple Amazon Facebook Meta OpenAI Slack Teams Zoom Excel Word PowerPoint Outlook Gmail Visa Mastercard
Technologies Technology Tech Industries Corporation Holdings Enterprises Consulting Media Networks Pharma Motors
Energy Airways Logistics Bank Financial Analytics Studios Ventures Associates Agency Hospitality Foods Retail
Now Then Here There Also Just Still Maybe Perhaps Sorry Okay OK Well Oh Yesterday Tonight Later Soon Again
""".split())
NOT_LOWER_NAMES = frozenset("""
a an the and or but with without who whom whose which that this is was are were be been being has have had having
do does did will would can could should may might must shall not no yes also just still now then here there today
at in on of for to from by as about after before during since until into over under again very so too
says said told asks asked wants wanted needs needed takes took gets got seems feels felt lives lived works worked
keeps kept comes came goes went died dies suffers suffered complains denies reports reported presented presents
remains continues started starts stopped tested admitted called named recently currently finally always never
care safety outcomes outcome portal handbook benefits benefit records record data loans loan account accounts
information info file files id number details profile list lists survey surveys satisfaction experience support
services service group groups population populations count side sides review reviews handbook education
visa status rights relations onboarding training schedule shift shifts manager managers team teams
database databases registry cohort cohorts sample samples volume volumes flow selection advocate advocacy
engagement journey safety-net mix load base panel portal-based charts chart notes visits visit
""".split())

# Organisation, study and place nouns: a capitalised run holding one is not a person.
INSTITUTION_WORDS = frozenset("""
Force Affairs Administration Federation Report Study Studies Project Scale Index Criteria Trial Trials Survey
Sample Laboratory Laboratories Hospitals Medicine Surgery Surgeons Nurse Nurses Investigators Investigator Program
Programme Registry Database Network Consortium Committee Agency Service State States Province Region District
Memorial Teaching Research Healthware Symptoms Disorders Deficiency Outcomes Outcome Prevention Classification
Guidelines Guideline Task System Method Model Test Score Rating Questionnaire Inventory Protocol Preparation
Western Eastern Northern Southern Central Double Using Improving Both Non Sample Cohort Panel Board Authority
Commission Office Unit Ward Clinic Clinics Centers Centres Hospital Institutes Universities Academy Society
Sciences Science Disease Diseases Syndrome Cancer Oncology Cardiology Neurology Psychiatry Pediatrics Paediatrics
Medical Clinical Health Care Community Public Global World National Federal Regional Population Inpatient
Outpatient Spine Heart Lung Kidney Liver Brain Bowel Blood Bone Skin Cell Cells Gene Genes Protein Drug Drugs
Therapy Treatment Trial Analysis Analyses Review Meta Systematic Randomized Randomised Controlled Group Groups
Youth Men Women Children Adults Adolescents Infants Elderly Age Aging Ageing Measure Measures Title Font Form
Breast Prostate Colon Ovarian Cervical Short Long Early Late Quality Life Activity Daily Living Mini Mental
City Town Village Province Northeast Northwest Southeast Southwest Island Islands Bay Valley Coast Beach Airport
Station Results Approaches Learning Incidents People Control Checklist Sprint Savers Defence Defense Army Navy
""".split())

# Endings of English nouns and adjectives that no given name or surname has (6+ letters).
NOT_NAME_SUFFIXES = ("tion", "sion", "ment", "ness", "ity", "ology", "ical", "ive", "ous", "ism", "ics",
                     "ated", "ized", "ised", "ural", "onal", "ular", "ship", "hood", "able", "ible", "less",
                     "ful", "algia", "itis", "osis", "emia", "aemia", "opathy", "ectomy", "otomy", "plasty",
                     "scopy", "graphy", "uria", "penia", "plegia", "lysis")
# Medical word endings, checked on single words only ("Seroma"; "Paloma Ruiz" keeps her name).
SINGLE_WORD_SUFFIXES = ("oma", "omas", "ine", "gen", "ase")

# A capitalised word followed by one of these is an eponym, not a person: "Cox regression", "Gleason score".
EPONYM_HEADS = frozenset("""
regression model models test tests score scores scale scales index criteria classification grade grading sign
syndrome disease lesion position procedure method analysis antigen antigens ultrasound esophagus oesophagus
postulates hazards proportional coefficient curve curves plot plots equation law effect ratio staging operation
technique catheter medium agar stain reaction phenomenon palsy ulcer tumor tumour cell cells node nodes hernia
fracture system type rank correlation distribution formula algorithm approach assay kit protocol guidelines
coma outcome outcomes heart stage stages""".split())

# Common given names across the languages our users write in. Used only to accept a *single*
# capitalised word as a person where wording gives no other hint ("Anna has HIV"); words that are
# also common English (May, Will, Grace, Hope, Mark, Bill, Rose) are left out on purpose.
FIRST_NAMES = frozenset("""
Aaron Abdul Abdullah Adam Adrian Ahmed Ahmad Aisha Akira Alan Albert Alberto Alejandro Alex Alexander Alexandra
Alexei Alfred Ali Alice Alicia Alina Alison Amanda Amelia Amir Amy Ana Anders Andrea Andreas Andrei Andrew Andrzej
Angela Anita Ann Anna Anne Anton Antonio Arjun Arthur Astrid Aurora Ayesha Barbara Beatriz Ben Benjamin Bernard
Bianca Birgit Boris Brandon Brian Bruno Camila Carl Carla Carlos Carmen Caroline Catherine Cecilia Charles
Charlotte Chen Chloe Christian Christina Christine Christopher Claire Clara Claudia Daniel Daniela Dario David
Deepak Denise Dennis Diana Diego Dmitri Dominik Donna Dorothy Edward Elena Elias Elif Elisa Elizabeth Ella Emily
Emma Eric Erik Ernesto Esther Eva Evelyn Fabian Farah Fatima Felix Fernando Fiona Francesca Francesco Francisco
Frank Freya Gabriel Gabriela George Georg Gerhard Giovanni Giulia Giuseppe Greta Gustav Hana Hannah Hans Harry
Hassan Heather Heidi Helen Helena Henrik Henry Hiroshi Hugo Ian Ibrahim Ida Igor Ines Ingrid Irene Isabel
Isabella Ivan Jack Jacob Jakub James Jana Jane Janet Jason Javier Jean Jennifer Jens Jessica Joanna Joao Johan
Johann John Jonas Jonathan Jorge Jose Josef Joseph Joshua Juan Julia Julian Julie Justin Kai Karen Karin Karl
Katarzyna Kate Katherine Kathleen Katja Kenji Kevin Khalid Kim Klaus Kristina Krzysztof Lars Laura Lauren Leila
Lena Leo Leon Liam Lina Linda Lisa Liu Lorenzo Louis Lucas Lucia Luis Luka Lukas Magnus Maja Malik Manuel Marco
Marcus Margaret Maria Mariana Marie Marina Mario Marek Marta Martin Mary Mateo Matteo Matthew Maximilian Maya
Mehmet Mei Melissa Mia Michael Michal Michelle Miguel Mikhail Milan Milo Ming Mohamed Mohammed Monika Moritz
Muhammad Nadia Nancy Naomi Natalia Natasha Nathan Nicholas Nicolas Nikolai Nina Noah Nora Olek Olga Oliver Olivia
Omar Oscar Pablo Patricia Patrick Paul Paula Paulo Pedro Peter Petra Philip Pierre Piotr Priya Rachel Rafael Rahul
Rajesh Ravi Rebecca Richard Robert Roberto Rosa Ryan Sabine Samuel Sandra Sara Sarah Sebastian Sergei
Sergio Simon Simone Sofia Sophie Stefan Stephanie Steven Susan Sven Takeshi Tamara Tanja Teresa Thomas Tim Timothy
Tobias Tom Tomas Tomasz Ursula Valentina Vanessa Victor Viktor Vincent Walter Wei Wilhelm William Xavier Yasmin
Yuki Yusuf Zainab Zoe Zofia
""".split())
