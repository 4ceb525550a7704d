"""Word lists for the hit guards (and for the pair generator that tests them).

Plain data, built lazily by `lexicon()` so importing costs nothing. Lists are
space-separated strings to keep them short; multi-word names use "_" and are
matched as phrases. Lowercase throughout: guards see normalised text, where
capitalisation is gone, so a named entity is recognised by this list (or by
the substitution rule in guards.py), never by its capital letter.
"""

from __future__ import annotations

from functools import lru_cache

# Function words and generic question words: dropped before comparing content.
STOPWORDS = """a an the and or but if then else of at by for with about against between
through during within without into onto upon to from in out on off over under up down before after
above below again further here there when where why how what which who whom whose
this that these those am is are was were be been being have has had having do does did
doing would should could can will shall may might must i me my mine myself we us our
ours you your yours he him his she her hers it its they them their theirs
as so than too very just also only own same such both each few more most other some any
all no nor not never s t d ll m o re ve y ever even get got getting make made
much many lot lots really actually please tell know want need like way ways thing things
one ones someone something anyone anything people person someone's best good better
question questions answer possible possibly use using used go going goes went gone"""

NEGATION_CUES = """not no never without cannot none neither nor nobody nothing nowhere
except excluding nope"""

# Content antonyms: one side has the first, the other the second.
ANTONYMS = """enable:disable increase:decrease increment:decrement raise:lower rise:fall
buy:sell purchase:sell import:export upload:download encrypt:decrypt encode:decode
compress:decompress add:remove add:delete insert:delete create:delete create:destroy
install:uninstall open:close start:stop start:finish begin:end min:max minimum:maximum
minimize:maximize minimise:maximise true:false ascending:descending asc:desc win:lose
gain:lose profit:loss accept:reject allow:deny allow:block include:exclude early:late
earliest:latest fast:slow faster:slower fastest:slowest hot:cold warm:cold light:dark
cheap:expensive cheapest:most_expensive easy:hard easy:difficult easiest:hardest
long:short longest:shortest big:small biggest:smallest large:small largest:smallest
high:low higher:lower highest:lowest strong:weak good:bad best:worst better:worse
more:less most:least many:few rich:poor love:hate like:dislike men:women man:woman
male:female boy:girl boys:girls husband:wife father:mother son:daughter brother:sister
north:south east:west left:right first:last positive:negative input:output push:pull
send:receive lend:borrow deposit:withdraw credit:debit asset:liability import:export
login:logout log_in:log_out sign_in:sign_out subscribe:unsubscribe
connect:disconnect attach:detach mount:unmount lock:unlock block:unblock follow:unfollow
show:hide expand:collapse inbound:outbound incoming:outgoing upstream:downstream
uppercase:lowercase upper:lower horizontal:vertical row:column forward:backward
prefix:suffix head:tail multiply:divide plus:minus sum:difference overestimate:underestimate
overweight:underweight inside:outside internal:external inner:outer private:public
legal:illegal valid:invalid correct:incorrect possible:impossible safe:unsafe
safe:dangerous healthy:unhealthy success:failure succeed:fail pass:fail present:absent
arrive:depart arrival:departure enter:exit entrance:exit import:export young:old
younger:older youngest:oldest new:old newer:older newest:oldest top:bottom front:back
upstairs:downstairs past:future predecessor:successor
parent:child ancestor:descendant supply:demand teacher:student employer:employee
advantage:disadvantage pros:cons benefit:drawback agree:disagree like:dislike
include:omit maximum:minimum majority:minority optimist:pessimist optimistic:pessimistic
liberal:conservative left_wing:right_wing republican:democrat democrats:republicans
capitalism:socialism introvert:extrovert odd:even prime:composite celsius:fahrenheit
acid:base acidic:basic cathode:anode anode:cathode expand:shrink heat:cool freeze:melt
attack:defend offense:defense offensive:defensive win:loss victory:defeat"""

# Polarity classes: any word of one class opposes any word of the other
# ("more followers" / "decrease followers", "best book" / "bad book").
POLARITY = [
    ("""more increase increment raise rise gain grow boost maximize maximise higher highest
bigger biggest larger largest expand improve""",
     """less decrease decrement lower reduce fall drop lose shrink minimize minimise lowest
smaller smallest fewer least decline worsen"""),
    ("""good better best great excellent safe safest healthy positive beneficial benefit benefits
pros advantage advantages right correct""",
     """bad worse worst terrible awful dangerous unsafe unhealthy negative harmful drawback
drawbacks cons disadvantage disadvantages wrong incorrect painful"""),
]

# Function-word antonyms: they only flip meaning when they govern the same
# object ("flights to london" / "flights from london"), so guards compare
# them together with their neighbour. Prepositions look right, particles left.
PREPOSITION_ANTONYMS = "to:from into:from before:after above:below over:under with:without"
PARTICLE_ANTONYMS = "up:down in:out on:off"

# Words whose two sides are not interchangeable: "usd to eur" / "eur to usd".
DIRECTIONAL = "to from into onto than before after towards -> =>"

# Prefixes that negate a word: "install"/"uninstall", "valid"/"invalid".
NEGATING_PREFIXES = {"un": 3, "dis": 3, "non": 3, "anti": 3, "in": 5, "im": 5, "il": 5,
                     "ir": 5, "de": 5, "mis": 4}

NUMBER_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "twice": 2, "thrice": 3,
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "half": 0.5, "quarter": 0.25, "double": 2, "triple": 3,
}
# "one" and "first" are left out on purpose: as pronoun ("which one") and
# adverb ("when did you first") they are mostly not numbers, and counting
# them rejected many true paraphrases. "one" still counts before a scale word.
SCALES = {"hundred": 100, "thousand": 1000, "lakh": 100_000, "million": 1_000_000,
          "crore": 10_000_000, "billion": 1_000_000_000, "trillion": 10**12}
OPERATOR_WORDS = {"plus": "+", "minus": "-", "times": "*", "multiplied": "*",
                  "divided": "/", "over": "/", "x": "*", "×": "*", "÷": "/", "mod": "%",
                  "power": "^", "squared": "^2", "cubed": "^3"}

# Named-entity kinds. "canonical=alias,alias" folds aliases into one name.
ENTITIES = {
    "country": """usa=u.s,u.s.a,united_states,united_states_of_america,america,american,americans
uk=u.k,united_kingdom,britain,great_britain,british england=english france=french
germany=german spain=spanish italy=italian portugal=portuguese netherlands=dutch,holland
belgium=belgian switzerland=swiss austria=austrian sweden=swedish norway=norwegian
denmark=danish finland=finnish poland=polish russia=russian ukraine=ukrainian greece=greek
turkey=turkish ireland=irish scotland=scottish china=chinese japan=japanese korea=korean
north_korea south_korea india=indian,indians pakistan=pakistani bangladesh=bangladeshi
nepal=nepali sri_lanka=sri_lankan iran=iranian iraq=iraqi israel=israeli
palestine=palestinian saudi_arabia=saudi egypt=egyptian nigeria=nigerian kenya=kenyan
south_africa ethiopia=ethiopian morocco=moroccan canada=canadian mexico=mexican
brazil=brazilian argentina=argentinian chile=chilean colombia=colombian peru=peruvian
venezuela=venezuelan cuba=cuban australia=australian new_zealand singapore=singaporean
malaysia=malaysian indonesia=indonesian thailand=thai vietnam=vietnamese
philippines=filipino afghanistan=afghan syria=syrian qatar uae=dubai_uae
czech_republic=czech hungary=hungarian romania=romanian bulgaria=bulgarian
croatia=croatian serbia=serbian iceland=icelandic luxembourg monaco jamaica=jamaican
ghana=ghanaian uganda tanzania zimbabwe mongolia bhutan maldives myanmar=burma
cambodia taiwan=taiwanese hong_kong""",
    "city": """london paris berlin madrid rome tokyo beijing shanghai delhi=new_delhi mumbai=bombay
bangalore=bengaluru chennai=madras kolkata=calcutta hyderabad pune ahmedabad jaipur
lucknow chandigarh kochi goa new_york=nyc los_angeles chicago boston seattle
san_francisco=sf houston dallas austin miami atlanta denver philadelphia washington_dc
las_vegas toronto vancouver montreal sydney melbourne dubai moscow istanbul cairo
singapore_city bangkok seoul hong_kong_city amsterdam vienna prague dublin lisbon
barcelona munich zurich geneva stockholm oslo copenhagen helsinki athens warsaw
budapest nairobi lagos karachi lahore dhaka kathmandu jakarta manila kuala_lumpur""",
    "us_state": """california texas florida alaska hawaii arizona colorado georgia_state idaho
illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
minnesota mississippi missouri montana nebraska nevada new_jersey new_mexico
north_carolina south_carolina ohio oklahoma oregon pennsylvania rhode_island tennessee
utah vermont virginia wisconsin wyoming kerala punjab gujarat maharashtra tamil_nadu
karnataka bihar rajasthan""",
    "language": """python java javascript=js typescript c c++=cpp c#=csharp ruby rust php perl
swift kotlin scala haskell matlab sql html css golang lua julia fortran cobol
assembly objective_c dart elixir erlang clojure bash powershell""",
    "tech": """linux windows macos=mac_os,osx android ios ubuntu debian fedora react angular
vue django flask node.js=nodejs spring hadoop spark tensorflow pytorch docker kubernetes
aws azure gcp mysql postgresql=postgres mongodb redis oracle excel photoshop wordpress
bitcoin ethereum blockchain iphone ipad macbook playstation xbox""",
    "company": """google microsoft amazon facebook=meta twitter netflix uber tesla ibm intel amd
nvidia samsung sony apple infosys tcs wipro accenture deloitte flipkart paytm
whatsapp instagram snapchat youtube linkedin reddit airbnb spotify paypal
adobe cisco dell hp lenovo xiaomi oneplus huawei nokia motorola toyota honda bmw
audi mercedes ford starbucks mcdonalds walmart ikea""",
    "currency": """usd=dollar,dollars eur=euro,euros gbp=pound_sterling inr=rupee,rupees,rs
jpy=yen cny=yuan chf=franc,francs btc rub=ruble,rubles""",
    "language_human": """hindi tamil telugu marathi bengali urdu arabic mandarin cantonese
latin sanskrit persian swahili""",
    "month": """january february march april june july august september october
november december monday tuesday wednesday thursday friday saturday sunday""",
    "religion": """hindu=hindus,hinduism muslim=muslims,islam christian=christians,christianity
jew=jews,jewish,judaism buddhist=buddhism sikh=sikhs,sikhism atheist=atheists,atheism""",
    "subject": """physics chemistry biology mathematics=maths,math economics history geography
psychology philosophy sociology engineering medicine accounting""",
}

# Near-synonyms that paraphrases swap freely; substitutions between them are
# not a change of key noun.
SYNONYMS = """quick:fast quickly:fast fastest:quickest easy:simple easiest:simplest
big:large huge:large small:little learn:study job:career job:work buy:purchase
car:vehicle boost:increase improve:increase improve:better reduce:lower reduce:decrease
begin:start finish:end start:commence movie:film shows:series tv:television
mobile:phone cellphone:phone smartphone:phone website:site app:application
benefit:advantage drawback:disadvantage kid:child kids:children woman:lady
girlfriend:gf boyfriend:bf lose:reduce gain:increase fat:weight meaning:definition
mean:meaning purpose:point significance:importance rich:wealthy famous:popular
difference:compare different:differ differ:compare impact:effect effect:affect
country:nation city:town method:technique tip:advice tips:advice guide:tutorial"""


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The lists above as lookup structures (built once, on first use)."""
    alias: dict[str, tuple[str, str]] = {}  # surface phrase -> (kind, canonical)
    for kind, text in ENTITIES.items():
        for item in text.split():
            canon, _, rest = item.partition("=")
            for name in [canon, *filter(None, rest.split(","))]:
                alias[name.replace("_", " ")] = (kind, canon.replace("_", " "))
    return {
        "stop": frozenset(STOPWORDS.split()),
        "negation": frozenset(NEGATION_CUES.split()),
        "antonyms": _pairs(ANTONYMS + " " + " ".join(f"{a}:{b}" for up, down in POLARITY
                                                     for a in up.split() for b in down.split())),
        "prepositions": _pairs(PREPOSITION_ANTONYMS),
        "particles": _pairs(PARTICLE_ANTONYMS),
        "directional": frozenset(DIRECTIONAL.split()),
        "synonyms": _pairs(SYNONYMS),
        "entities": alias,
        "max_phrase": max(len(k.split()) for k in alias),
    }


def _pairs(text: str) -> dict[str, set[str]]:
    """"a:b" items -> symmetric map word -> its opposites (or synonyms)."""
    out: dict[str, set[str]] = {}
    for item in text.split():
        a, b = (w.replace("_", " ") for w in item.split(":"))
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out
