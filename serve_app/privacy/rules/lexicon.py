"""Word lists for the context rules, generated in code.

Owns the health lexicon (conditions, cancers, mental health, medications,
procedures, reproductive and addiction terms: ~650 phrases once combined)
and the special-category lexicon (sexuality, religion, criminal and
immigration status). Lists are plain data; `cues.py` matches them.
Ambiguous words that are common outside medicine ("cold", "stroke" alone,
"depression" of an economy) are left out or need a medical neighbour; the
person-proximity rule bounds the rest.
"""

from __future__ import annotations

_CONDITIONS = """
hiv aids covid covid-19 coronavirus sars tuberculosis  hepatitis hepatitis-a hepatitis-b hepatitis-c
malaria measles mumps rubella chickenpox shingles herpes syphilis gonorrhea gonorrhoea chlamydia hpv
 sti influenza pneumonia bronchitis sepsis meningitis encephalitis ebola zika lyme mrsa c-diff
diabetes diabetic prediabetes hypertension hypotension hyperlipidemia hypercholesterolemia obesity
asthma copd emphysema cystic-fibrosis sarcoidosis pulmonary-fibrosis sleep-apnea apnea
arrhythmia atrial-fibrillation afib tachycardia bradycardia angina cardiomyopathy endocarditis
myocarditis pericarditis aneurysm thrombosis embolism dvt atherosclerosis  heart-attack
heart-failure heart-disease coronary-artery-disease    myocardial-infarction
epilepsy seizures migraines dementia alzheimer's alzheimers parkinson's parkinsons huntington's
 multiple-sclerosis neuropathy cerebral-palsy concussion tbi brain-injury paralysis paraplegic
quadriplegic spina-bifida narcolepsy tourette's tourettes
arthritis rheumatoid-arthritis osteoarthritis osteoporosis lupus fibromyalgia gout scoliosis
psoriasis eczema vitiligo rosacea acne dermatitis alopecia
crohn's crohns colitis ulcerative-colitis ibs celiac coeliac gerd ulcer cirrhosis pancreatitis
gallstones kidney-stones kidney-disease ckd renal-failure kidney-failure liver-disease fatty-liver
hypothyroidism hyperthyroidism hashimoto's graves' addison's cushing's thyroid-disease
anemia anaemia leukemia leukaemia lymphoma myeloma melanoma sarcoma glioblastoma glioma carcinoma
mesothelioma neuroblastoma tumor tumour malignancy metastasis metastases metastatic
hemophilia haemophilia sickle-cell thalassemia hiv-positive hiv+ hiv-negative
endometriosis pcos infertility infertile erectile-dysfunction impotence menopause
glaucoma cataracts macular-degeneration blindness deafness tinnitus
autism autistic asperger's aspergers adhd  dyslexia down-syndrome
depression depressed anxiety panic-attacks bipolar bipolar-disorder schizophrenia schizophrenic
ptsd ocd anorexia bulimia eating-disorder insomnia psychosis psychotic suicidal suicide-attempt
self-harm self-harming borderline-personality-disorder bpd personality-disorder mental-illness
mental-health-crisis nervous-breakdown burnout postpartum-depression
alcoholism alcoholic addiction addicted opioid-addiction substance-abuse drug-addiction overdose
overdosed relapse relapsed  rehab 
pregnant pregnancy miscarriage miscarried abortion stillbirth ivf ectopic-pregnancy
disability  handicapped amputee amputation wheelchair-bound
coma comatose  terminally-ill palliative hospice
allergy anaphylaxis fracture fractured broken-leg broken-arm torn-acl herniated-disc
long-covid chronic-fatigue  lupus-nephritis sjogren's scleroderma
"""

_CANCER_SITES = """
breast lung prostate colon colorectal rectal pancreatic liver ovarian cervical uterine endometrial
bladder kidney renal stomach gastric esophageal oesophageal throat thyroid brain skin bone blood
testicular oral head-and-neck bowel anal
"""

_MEDICATIONS = """
metformin lithium-carbonate lithium-therapy insulin ozempic semaglutide wegovy mounjaro tirzepatide jardiance glipizide
lisinopril amlodipine losartan metoprolol atenolol propranolol hydrochlorothiazide furosemide
atorvastatin simvastatin rosuvastatin lipitor crestor warfarin eliquis apixaban xarelto clopidogrel
aspirin-therapy nitroglycerin digoxin amiodarone
sertraline zoloft fluoxetine prozac citalopram escitalopram lexapro paroxetine paxil venlafaxine
effexor duloxetine cymbalta bupropion wellbutrin mirtazapine trazodone amitriptyline
 lamotrigine lamictal quetiapine seroquel olanzapine risperidone aripiprazole abilify
clozapine haloperidol valproate depakote carbamazepine
adderall ritalin methylphenidate vyvanse concerta strattera
xanax alprazolam valium diazepam ativan lorazepam klonopin clonazepam ambien zolpidem
oxycodone oxycontin hydrocodone vicodin percocet morphine fentanyl tramadol codeine methadone
buprenorphine suboxone naloxone narcan naltrexone gabapentin pregabalin lyrica
levothyroxine synthroid prednisone prednisolone methotrexate humira adalimumab enbrel remicade
hydroxychloroquine plaquenil
truvada  biktarvy descovy genvoya dolutegravir tenofovir antiretroviral antiretrovirals 
chemo chemotherapy radiotherapy radiation-therapy immunotherapy keytruda herceptin tamoxifen
letrozole anastrozole cisplatin carboplatin doxorubicin
albuterol ventolin inhaler epipen accutane isotretinoin spironolactone finasteride propecia
viagra sildenafil cialis tadalafil testosterone hrt estrogen birth-control 
antidepressants antidepressant antipsychotics antipsychotic benzodiazepines opioids painkillers
dialysis
"""

_PROCEDURES = """
surgery  biopsy mastectomy lumpectomy hysterectomy vasectomy appendectomy
colonoscopy endoscopy mri-scan ct-scan pet-scan x-ray ultrasound mammogram ecg ekg
angioplasty bypass-surgery stent pacemaker transplant kidney-transplant liver-transplant
bone-marrow-transplant amputation c-section caesarean knee-replacement hip-replacement
chemo-session radiation-treatment blood-transfusion transfusion intubation ventilator
physiotherapy physical-therapy psychotherapy therapy   electroconvulsive
 rehabilitation detoxification
"""

# Verbs and phrases that turn a general word into a statement about someone's health.
HEALTH_PHRASES: tuple[str, ...] = (
    r"diagnosed with|diagnosis of|diagnosed as (?:having|hiv|\w+ positive)",
    r"(?:tested|test(?:s|ed)? came back|screened) (?:positive|negative)(?: for)?",
    r"stage (?:[0-4]|i{1,3}v?|iv)[abc]? (?:\w+ ){0,2}(?:cancer|carcinoma|lymphoma|melanoma|tumou?r|disease|ckd)",
    r"(?:grade|class) [1-4] (?:tumou?r|glioma|cancer)",
    r"(?:suffers?|suffering|suffered) from",
    r"treated for|hospitali[sz]ed|(?:had|has|needs|needed|underwent|scheduled for) (?:an? )?(?:surgery|operation|transplant)",
    r"(?:admitted to|discharged from|in) (?:the )?(?:hospital|icu|psychiatric ward|er|a&e|emergency room)",
    r"prescribed (?:him|her|them)?",
    r"\d+(?:\.\d+)? ?(?:mg|mcg|µg)\b",
    r"(?:medical|sick|disability|maternity|stress) leave",
    r"(?:medical|health|psychiatric|mental health) (?:history|condition|records?|diagnosis|issue|problems?)",
    r"(?:blood|lab|biopsy|hiv|pregnancy|pathology|mri|ct|pet|scan) (?:test |scan )?results?",
    r"in remission", r"(?:viral|cd4) (?:load|count)", r"(?:has|had|have|suffered) (?:a|an) (?:seizure|stroke|heart attack|breakdown|mild stroke|minor stroke)",
    r"living with (?:hiv|aids|cancer|diabetes|ms|als|dementia)",
    r"(?:cancer|tumou?r|lump|mass) (?:in|on) (?:the|his|her|their) \w+",
    r"(?:his|her|their) (?:diagnosis|prognosis|illness|medications?|therapist|psychiatrist|oncologist|cardiologist|neurologist)",
    r"(?:weeks|months) pregnant",
)
# "<word> disorder", "<word> syndrome": the head noun makes any two-word name a condition.
HEALTH_HEADS: frozenset[str] = frozenset({"disorder", "syndrome", "disease", "deficiency"})

# Upper-case only: as lower-case words these are common English ("aids", "add", "ms").
HEALTH_ACRONYMS: frozenset[str] = frozenset({"AIDS", "ALS", "HIV", "PTSD", "ADHD", "OCD", "COPD"})

_SPECIAL = """
gay lesbian bisexual transgender  queer homosexual non-binary nonbinary came-out coming-out
closeted pansexual asexual intersex
muslim jewish christian catholic hindu buddhist sikh mormon atheist jehovah's-witness scientologist
converted-to-islam
arrested convicted conviction criminal-record felony felon misdemeanor misdemeanour dui dwi
jail jailed prison imprisoned incarcerated parole probation indicted charged-with sex-offender
restraining-order
undocumented illegal-immigrant illegal-alien asylum-seeker asylum refugee-status deported
deportation overstayed visa-status immigration-status green-card-holder
union-member trade-union-member
"""


def _split(block: str) -> list[str]:
    return [w.replace("-", " ") for w in block.split()]


def health_terms() -> frozenset[str]:
    """Lower-case phrases (1-4 words) that name a health condition, drug or procedure."""
    terms = set(_split(_CONDITIONS)) | set(_split(_MEDICATIONS)) | set(_split(_PROCEDURES))
    sites = _split(_CANCER_SITES)
    for site in sites:
        for kind in ("cancer", "tumor", "tumour", "carcinoma"):
            terms.add(f"{site} {kind}")
    for kind in ("cancer", "carcinoma", "lymphoma", "leukemia", "leukaemia", "tumor", "tumour"):
        terms.add(kind)
        for mod in ("terminal", "metastatic", "advanced", "aggressive", "invasive", "stage four", "stage 4"):
            terms.add(f"{mod} {kind}")
    for n in ("1", "2", "one", "two", "i", "ii"):
        terms.add(f"type {n} diabetes")
    for organ in ("heart", "kidney", "liver", "lung", "respiratory", "renal", "organ"):
        for word in ("failure", "disease", "transplant"):
            terms.add(f"{organ} {word}")
    for who in ("hodgkin's", "hodgkin", "non-hodgkin", "non-hodgkin's"):
        terms.add(f"{who} lymphoma")
    for person in ("lou gehrig's", "bell's", "huntington's", "parkinson's", "alzheimer's", "crohn's"):
        terms.add(f"{person} disease" if not person.startswith("bell") else "bell's palsy")
    return frozenset(terms)


def special_terms() -> frozenset[str]:
    """Lower-case phrases for GDPR special categories and criminal records."""
    return frozenset(_split(_SPECIAL))
