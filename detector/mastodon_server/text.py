"""The words of the simulated community: phrase banks and the grammar that assembles posts.

One grammar serves humans and scripts alike, on purpose. Humans recommend products with links,
praise posts generically, complain about brands and share the same news link; scripted accounts
borrow exactly those phrases. What separates them is behaviour (when, to whom, how often the same
template comes back), which is what botwatch should learn, not this file's word lists.

Everything takes a ``random.Random`` so the community is reproducible per seed. Nothing here
knows about accounts or time; :mod:`detector.mastodon_server.community` decides who says what.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Sequence

NBSP = "\u00a0"

# ---------------------------------------------------------------- products and brands


@dataclass(frozen=True, slots=True)
class Brand:
    """A vacuum maker in the simulated market, with its models and its known problems."""

    name: str
    handle: str  # the official account's username
    support_handle: str  # the support account's username
    models: tuple[str, ...]
    strengths: tuple[str, ...]
    problems: tuple[str, ...]
    shop_url: str


DEFAULT_BRANDS: tuple[Brand, ...] = (
    Brand(
        "Dustwise", "dustwise", "dustwise_support", ("V8", "V9 Slim", "Aero 2", "Robo R3"),
        ("the suction is ridiculous", "battery lasts a whole flat", "it handles pet hair fine", "it's light enough to carry upstairs"),
        ("the battery died after a year", "it won't hold a charge", "the charging dock stopped working", "the bin latch snapped"),
        "https://dustwise.example/shop",
    ),
    Brand(
        "Vortexa", "vortexa", "vortexa_care", ("Turbo 300", "Turbo 500", "Windtunnel X"),
        ("it's cheap and does the job", "the brush roll is great on carpet", "it's basically indestructible"),
        ("it MUNCHES belts", "the beater bar stops turning", "it's so loud the dog hides", "the hose keeps cracking"),
        "https://vortexa.example/store",
    ),
    Brand(
        "Sweepio", "sweepio", "sweepio_help", ("S5", "S7 Max", "Mini"),
        ("the app mapping is spot on", "it empties itself", "it runs every morning without me thinking about it"),
        ("it gets stuck under the sofa", "the app keeps logging me out", "it ate a sock and died", "the map resets every week"),
        "https://sweepio.example/buy",
    ),
    Brand(
        "Kleenor", "kleenor", "kleenor_service", ("K-Max", "K2 Cordless"),
        ("the filters are cheap", "it's quiet enough to use at night"),
        ("spare parts take weeks", "the cord is way too short", "the filter clogs constantly"),
        "https://kleenor.example/products",
    ),
)

PRODUCT_NOUNS = ("vacuum", "vacuum cleaner", "cordless vacuum", "robot vacuum", "stick vacuum", "hoover")
PRODUCT_HASHTAGS = ("vacuum", "RobotVacuum", "cleaning", "CleanTok", "HomeHacks", "vacuumcleaner")

# Where product links point. Humans and scripts draw from the same pools (review sites, shops,
# marketplaces with referral tags, shorteners, tracking parameters); a script adds its own shop.
REVIEW_SITES = (
    "https://www.rtings.example/vacuum/reviews/{slug}",
    "https://www.wirecutter.example/reviews/best-{slug}/",
    "https://floorcare-forum.example/t/{slug}/{n}",
    "https://www.reddit.com/r/VacuumCleaners/comments/{short}/{slug}/",
    "https://www.ifixit.example/Guide/{slug}/{n}",
    "https://www.youtube.com/watch?v={vid}",
)
SHOP_SITES = (
    "https://www.amazon.example/dp/B0{n}{vid5}",
    "https://www.amazon.example/dp/B0{n}{vid5}?tag={tag}-20",
    "https://homeandhearth.store/products/{slug}",
    "https://www.currys.example/products/{slug}-{n}.html",
    "https://cleanhome.shop/{slug}",
    "https://bit.ly/{short}",
)
EVERYDAY_LINKS = ("https://www.youtube.com/watch?v={vid}", "https://en.wikipedia.org/wiki/{slug}",
                  "https://{short}.blog.example/{yyyy}/{slug}", "https://www.bbc.example/news/{slug}-{n}")
AFFILIATE_TAGS = ("vacdeals", "homefinds", "cleanpicks", "mydeals0", "techbargain", "reviewsbyjo")
NEWS_SITES = (
    ("https://www.theverge.example/{n}/{slug}", "The Verge"),
    ("https://www.bbc.example/news/technology-{n}", "BBC News"),
    ("https://arstechnica.example/gadgets/{yyyy}/{slug}/", "Ars Technica"),
    ("https://www.consumerwatch.example/recalls/{slug}", "Consumer Watch"),
)

# ---------------------------------------------------------------- people

FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Priya", "Mateo", "Chloe", "Noah", "Amara", "Liam", "Yuki", "Fatima", "Oskar", "Ines",
    "Tom", "Hannah", "Ravi", "Sofia", "Ben", "Leila", "Marco", "Aoife", "Jonas", "Nadia", "Chris", "Emma", "Kofi",
    "Julia", "Daniel", "Mei", "Tariq", "Laura", "Pieter", "Zoe", "Omar", "Grace", "Lukas", "Anya", "Diego", "Ruth",
    "Felix", "Maya", "Ahmed", "Clara", "Ethan", "Ingrid", "Samir", "Elena", "Kai", "Nora", "Hugo", "Lena", "Theo",
    "Isla", "Jamal", "Freya", "Arjun", "Rosa", "Max", "Vera", "Leo", "Mira", "Ivan", "Alina", "Peter", "Joanne",
    "Katrina", "Justin", "Greta", "Bruno", "Tess", "Ada", "Rafael", "Ola", "Wen", "Sana", "Miguel", "Elif", "Nils",
)
LAST_NAMES = (
    "Smith", "Nguyen", "Garcia", "Okafor", "Schmidt", "Rossi", "Kowalski", "Tanaka", "Haddad", "Murphy", "Jensen",
    "Dubois", "Silva", "Khan", "Novak", "Larsen", "Moreau", "Fischer", "Costa", "Ahmed", "Brown", "Lindqvist",
    "Maly", "Kownacki", "Fouts", "Petrov", "Young", "Walker", "Hughes", "Bauer", "Ito", "Reyes", "Evans", "Santos",
)
NICK_WORDS = (
    "fern", "pixel", "otter", "moss", "kettle", "nova", "quill", "maple", "ember", "tide", "lark", "pebble", "cactus",
    "orbit", "biscuit", "heron", "salt", "lumen", "clover", "fox", "bramble", "dusk", "wren", "juniper", "basil",
)
EMOJI = ("😅", "🙂", "😂", "🙃", "👍", "✨", "🧹", "🐈", "☕", "🌱", "🎧", "🚲", "📚", "🤔", "😬", "❤️", "🙏", "💯", "🔥", "😭")

BIO_PARTS = (
    "Coffee first.", "Dad of two.", "Mum, runner, tea drinker.", "Software person.", "Nurse.", "Teacher by day.",
    "Amateur baker.", "Cyclist.", "Plant hoarder.", "Cat person.", "Dog person.", "Writes code and bad poetry.",
    "Librarian.", "He/him.", "She/her.", "They/them.", "Opinions my own.", "Gardener.", "Board games.", "Photographer.",
    "Retired engineer.", "Student.", "Open source.", "Birdwatcher.", "Home cook.", "Trying to fix things myself.",
    "Lives with a very loud robot vacuum.", "Mostly here for the cats.", "Not a morning person.",
)

# ---------------------------------------------------------------- topics for everyday posts

TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "cooking": {
        "things": ("sourdough", "lentil soup", "my gran's curry", "fresh pasta", "banana bread", "ramen broth",
                   "the pickled onions", "a sheet-pan dinner", "vacuum-sealed sous vide steak", "focaccia", "dal"),
        "lines": ("Finally nailed {thing} after {n} tries.", "{thing} tonight and honestly it slaps.",
                  "Is {thing} worth the effort or am I overthinking it?", "Made {thing}. The kitchen is a disaster.",
                  "Hot take: {thing} is better the next day.", "Anyone got a good recipe for {thing}?",
                  "Burnt {thing} again. Ordering pizza."),
    },
    "gardening": {
        "things": ("the tomatoes", "my chilli plants", "the allotment", "the compost heap", "seedlings",
                   "the apple tree", "raised beds", "slugs", "the runner beans", "wildflower patch"),
        "lines": ("{thing} finally doing something.", "Spent the morning on {thing}. Back is not happy.",
                  "What do people do about {thing}? Asking for my sanity.", "Tiny win: {thing} survived the frost.",
                  "Note to self: stop buying more seeds until {thing} is sorted."),
    },
    "cycling": {
        "things": ("the commute", "a new chain", "the gravel loop", "my rear derailleur", "the hill on Elm Road",
                   "a puncture", "winter tyres", "the cargo bike"),
        "lines": ("{thing} in the rain again. Worth it.", "Fixed {thing} myself, feeling unstoppable.",
                  "Anyone know a decent shop to look at {thing}?", "{n} km today, {thing} was brutal.",
                  "Drivers, please. {thing} is not a race."),
    },
    "tech": {
        "things": ("my home server", "the new phone", "a Raspberry Pi", "Linux on the old laptop", "the router",
                   "a mechanical keyboard", "self-hosting email", "the backup script", "the smart plug"),
        "lines": ("Spent {n} hours on {thing}. It was a DNS problem.", "{thing} works and I don't know why.",
                  "Is {thing} worth it in {year}?", "Update: {thing} is alive again.",
                  "Today I learned {thing} can be fixed with a reboot. Who knew.",
                  "Writing up how I set up {thing}, will share when it's less embarrassing."),
    },
    "books": {
        "things": ("the new Le Guin reread", "a slow fantasy novel", "that essay collection", "the library haul",
                   "a cosy mystery", "the history of salt book", "poetry", "the book club pick"),
        "lines": ("Halfway through {thing} and I can't put it down.", "{thing} made me cry on the train.",
                  "Recommendations after {thing}? I need more like it.", "DNF'd {thing}. Life's too short.",
                  "Reading {thing} with tea while it rains. Perfect evening."),
    },
    "music": {
        "things": ("the new album", "an old jazz record", "my guitar", "the choir rehearsal", "a live set",
                   "synth patches", "the festival lineup"),
        "lines": ("{thing} on repeat all week.", "Practised {thing} for {n} minutes, fingers hurt.",
                  "Who else is going to {thing}?", "{thing} hits different at 2am.",
                  "Not me spending the evening on {thing} instead of sleeping."),
    },
    "pets": {
        "things": ("the cat", "our dog", "the new kitten", "the rabbit", "the foster pup", "the hamster"),
        "lines": ("{thing} has decided 5am is breakfast time.", "{thing} knocked my coffee off the desk. Again.",
                  "Vet says {thing} is fine, just dramatic.", "{thing} is terrified of the robot vacuum lol",
                  "Photo of {thing} because it's been a week."),
    },
    "weather": {
        "things": ("the rain", "this heat", "the wind", "the first frost", "fog", "the storm"),
        "lines": ("{thing} again. Of course.", "Loving {thing} today, honestly.", "{thing} cancelled my plans.",
                  "Is it just me or is {thing} worse than forecast?"),
    },
    "work": {
        "things": ("the quarterly review", "another all-hands", "the deadline", "my inbox", "the new manager",
                   "a four-day week trial", "the office move", "on-call"),
        "lines": ("{thing} is eating my whole week.", "Survived {thing}. Wine.", "Anyone else dreading {thing}?",
                  "Small rant about {thing}: why is everything urgent.", "{thing} went better than expected tbh."),
    },
    "films": {
        "things": ("the new Ghibli film", "a 70s thriller", "that documentary", "the series finale",
                   "a comfort rewatch", "the film club pick"),
        "lines": ("Watched {thing} last night, still thinking about it.", "{thing} was {n} minutes too long.",
                  "Hot take: {thing} is underrated.", "Anyone seen {thing}? No spoilers."),
    },
    "games": {
        "things": ("the roguelike", "a cosy farming game", "chess puzzles", "the board game night",
                   "the new Zelda", "a co-op shooter", "the crossword"),
        "lines": ("One more run of {thing}, I said, {n} hours ago.", "{thing} is my whole personality this month.",
                  "Lost at {thing} to a ten-year-old. Humbling.", "Any tips for {thing}?"),
    },
    "parenting": {
        "things": ("the toddler", "school pickup", "bedtime", "the science project", "the teenager", "swimming lessons"),
        "lines": ("{thing} took {n} minutes tonight. New record.", "{thing} asked me why the sky is blue. I said physics.",
                  "Survival mode: {thing} edition.", "Small joys: {thing} said thank you unprompted."),
    },
    "fitness": {
        "things": ("my first 10k", "the climbing gym", "yoga", "a rest day", "the couch to 5k plan", "swimming"),
        "lines": ("Did {thing} today. Legs are jelly.", "{thing} is the only thing keeping me sane.",
                  "Skipped {thing}. No regrets.", "{n} weeks into {thing} and it's getting easier."),
    },
    "travel": {
        "things": ("the night train", "a weekend in Lisbon", "the ferry", "a rainy campsite", "the airport", "a hostel"),
        "lines": ("{thing} was delayed {n} minutes but the views made up for it.", "Planning {thing}, tips welcome.",
                  "Never again: {thing}.", "Back from {thing} and already missing it."),
    },
    "science": {
        "things": ("a vacuum chamber demo", "the telescope", "the eclipse", "bird migration data", "a fungi walk",
                   "the physics lecture", "the solar panels"),
        "lines": ("Saw {thing} today and I'm still buzzing.", "Explaining {thing} to my kid was harder than expected.",
                  "Great talk on {thing} at the library tonight.", "{thing} is the coolest thing I've seen this year."),
    },
    "local": {
        "things": ("the farmers market", "the new bakery", "roadworks on the high street", "the library", "the bus strike",
                   "the community garden", "the repair cafe"),
        "lines": ("{thing} was packed today.", "Shoutout to {thing}, lovely people.", "How long is {thing} going to last??",
                  "Volunteered at {thing} this morning, recommend."),
    },
}
EVERYDAY_TOPICS = tuple(TOPICS)

OPENERS = ("", "", "", "Ok so ", "Honestly, ", "Update: ", "PSA: ", "Random thought: ", "Ugh. ", "Well. ", "Quick one: ")
CLOSERS = ("", "", "", "", " Anyway.", " That's it, that's the post.", " Send help.", " 10/10.", " Thoughts?", " Lol.")
REACTIONS = (
    "Ha, same here.", "Oh no!", "This is so relatable.", "Love this.", "Ooh, nice.", "Wait, really?", "Yes!!",
    "Hard agree.", "Haha.", "Oof.", "That's brilliant.", "Fair point.", "Good luck!", "Congrats!", "Ugh, sorry.",
    "Same tbh.", "I needed this today.", "Great read, thanks.", "Thanks for sharing.", "Really interesting.",
)
FOLLOW_UPS = (
    "How long did it take you?", "Where did you get it?", "Did it work in the end?", "What would you do differently?",
    "Is it worth it?", "Tell me more!", "Which one?", "Any photos?", "How did you find out?", "Same thing happened to me last year.",
    "I had no idea.", "Keep us posted.", "That's the spirit.", "Let me know how it goes.", "You've convinced me.",
)

# ---------------------------------------------------------------- product talk (shared by humans and scripts)

PRODUCT_QUESTIONS = (
    "Looking for a new {noun}, anyone have one they love? Budget is around {price}.",
    "Our {noun} just died. What should I get? {pets}",
    "Is a {noun} worth it for a small flat?",
    "Cordless or corded {noun}? Go.",
    "Thinking about a {noun}. {brand} {model} or something else?",
    "Recommendations for a {noun} that can handle {mess}?",
    "Help me pick a {noun} before I lose my mind comparing reviews.",
    "Anyone tried the {brand} {model}? Reviews are all over the place.",
)
PRODUCT_COMPLAINTS = (
    "My {brand} {model} {problem}. Third time this year.",
    "Never buying {brand} again, {problem}.",
    "@{handle} my {model} {problem}, what now?",
    "{brand} {model}: {problem}. Is this normal?? #{tag}",
    "Years ago {brand} was a good name. Now {problem}. Utter garbage.",
    "Day {n} of my {noun} being broken because {problem}.",
)
PRODUCT_PRAISE = (
    "The {brand} {model} was the best thing I bought this year, {strength}.",
    "Robot {noun2} has changed my life. {pets}",
    "Finally got a {noun} that works. {strength_cap}.",
    "Honestly the {brand} {model} is great, {strength}. #{tag}",
    "New {noun} day! {emoji}",
)
PRODUCT_MISC = (
    "Vacuumed the whole flat before 9am, who am I.",
    "The {noun} ate a sock. We don't talk about it.",
    "Is it weird that I find hoovering relaxing?",
    "Cat vs {noun}: round {n}. Cat is winning.",
    "Spent the evening cleaning the {noun} filter. Living the dream.",
)
MESSES = ("pet hair", "long hair", "sand from the beach", "a toddler and two cats", "a shedding husky", "crumbs everywhere")
PETS = ("We have two cats.", "Dog hair everywhere.", "No pets, just kids.", "", "", "The cat hates it.")
PRICES = ("£200", "$300", "€250", "300 quid", "a few hundred", "$150")

RECOMMEND_LEADS = (
    "I'd go for the {brand} {model}", "We've had the {brand} {model} for {years} years", "Get the {brand} {model}",
    "Honestly the {brand} {model}", "Can't recommend the {brand} {model} enough", "I recommend the {brand} {model}",
    "My vote: {brand} {model}", "We switched to the {brand} {model}", "Have a look at the {brand} {model}",
)
RECOMMEND_REASONS = (
    "{strength}", "{strength} and it was on sale", "never had a problem", "{strength}, worth every penny",
    "it's not perfect but {strength}", "{strength}. Avoid anything from {other} though, {other_problem}",
)
LINK_LEADS = (
    "Review here: {link}", "This helped me decide: {link}", "Got mine from {link}", "{link}", "Comparison: {link}",
    "Check it out: {link}", "Worth a read: {link}", "I recommend visiting {link}", "More info at {link}",
)
DEAL_LINES = (
    "It's {pct}% off this week.", "There's a deal on at the moment.", "Free shipping today.", "Price drop this weekend.",
    "Use the code CLEAN{pct} at checkout.", "Limited stock apparently.",
)
GENERIC_PRAISE = (
    "Great read.{nbsp} Really, tx.", "Great read. Really, thanks.", "Nice post!", "Very informative, thanks for sharing.",
    "Love this!", "So true.", "Great post, thanks.", "Well said.", "Thanks for this, really useful.",
    "Great article!", "Interesting read.", "Good stuff.", "Excellent points.", "This is gold.", "Great tips!",
)
SUPPORT_OPENERS = ("Hi {name},", "Hey {name},", "Hi {name}!", "Hello {name},", "Hi there,", "Hey {name}!")
SUPPORT_BODIES = (
    "sorry to hear your {model} {problem}. Could you send us a DM with your order number so we can sort this out?",
    "we're sorry about the trouble with your {model}. Please DM us your serial number and we'll get a replacement moving.",
    "that's not the experience we want for you. Can you DM us your order number and a short video of the issue?",
    "thanks for flagging this. A reset usually helps: hold the power button for 10 seconds. If not, DM us and we'll help.",
    "sorry about that! Our team can help: please DM us your postcode and the model number.",
    "really sorry about the {model}. You're covered by the warranty, DM us and we'll arrange a repair.",
)
SUPPORT_FOLLOWUPS = (
    "Thanks {name}, we've got your DM and replied there.", "Got it, thanks! Check your DMs.",
    "Thanks for your patience, {name}. A replacement is on its way.", "Glad that worked! Shout if anything else comes up.",
    "Thanks, we've passed this on to the team.",
)
SMEAR_LINES = (
    "Don't buy a {other}. {other_problem_cap}. Get a {brand} instead.",
    "Stay away from {other}, {other_problem}. {brand} {model} is what you want.",
    "{other} used to be good. Now {other_problem}. I switched to {brand} and never looked back.",
    "Whatever you do, not the {other} {other_model}. {other_problem_cap}.",
    "Friends don't let friends buy {other}. {brand} {model} all the way.",
)
PRODUCT_FOLLOW_UPS = (
    "Which model is it?", "How old is it?", "Did you try cleaning the filter?", "Is it still under warranty?",
    "What's your budget?", "Carpet or hard floors?", "Corded or cordless?", "Have you looked at the {brand} {model}?",
    "How's the battery on it?", "Does it cope with pet hair?", "Where did you buy it?", "Is the {model} any good?",
)
COMPLAINT_REPLIES = (
    "Ugh, same with mine. {problem_cap}.", "Have you tried contacting {brand}? They sorted mine out.",
    "Oh no. Ours did that too, turned out to be the belt.", "That's awful, that model used to be so good.",
    "Check the warranty, they replaced mine.", "Mine too!! {problem_cap}. Never again.",
)
SPAM_PUSHBACK = (
    "@{bot} no thanks.", "@{bot} reported.", "@{bot} are you a bot?", "Blocked. Why do these accounts exist.",
    "@{bot} nobody asked", "Lol the spam bots found me the second I said vacuum.",
)
PITCH_HOOKS = (
    "Tired of {mess}?", "Still looking for a {noun}?", "Looking for a new {noun}?", "Hi {name}!", "Hey {name},",
    "Saw your post about your {noun}!", "Sorry to hear about your {noun}.", "Need a better {noun}?", "",
)
PITCH_BODIES = (
    "The {brand} {model}? {strength_cap}.", "{brand} {model}: {strength}.", "You need the {brand} {model}, {strength}.",
    "We stock the {brand} {model} and {strength}.", "I'd go for the {brand} {model}, {strength}.",
    "Our customers love the {brand} {model}, {strength}.", "With the {brand} {model} {strength}.",
)
CTAS = ("Check it out:", "Order now:", "Shop here:", "See the deal:", "Grab yours:", "More info:", "Details:", "Link:", "")
LINK_PROMO_INTROS = (
    "{topic_cap} uses a range of techniques and approaches, commonly known as a 'mix', to change how people {verb} in a clearly defined and positive way.",
    "One easy way to learn the best strategies for {topic} is to actually follow in the footsteps of people who are {topic} success stories.",
    "Choosing a {noun} is one of the most important decisions for a clean and healthy home, and many people get it wrong.",
    "Keeping your floors clean with the right {noun} saves time, money and allergies in the long run.",
    "There are many factors to consider when buying a {noun}, such as suction power, filtration, noise and price.",
)
LINK_PROMO_MIDDLES = (
    "{shop_name} is one guide that lets you in on the secrets of {topic} and gives you proven techniques.",
    "Its aim is to achieve a particular good, rather than commercial benefits.",
    "Experts agree that a good {noun} should last for years with the right care.",
    "{shop_name} offers honest reviews and the best prices on every major brand.",
)
ADVICE_GUIDES = ("Rtings", "the floorcare forum", "Wirecutter", "the r/VacuumCleaners wiki", "iFixit", "Which?")
LINK_PROMO_TOPICS = ("home cleaning", "floor care", "vacuum buying", "allergy-free living", "smart cleaning")
LINK_PROMO_VERBS = ("clean", "shop", "live", "care for their homes")

# ---------------------------------------------------------------- news events


@dataclass(frozen=True, slots=True)
class NewsStory:
    url: str
    site: str
    headline: str
    brand: str


NEWS_HEADLINES = (
    "{brand} recalls {n},000 {model} batteries over overheating risk",
    "{brand} {model} review: the {noun} that finally gets pet hair right",
    "Robot vacuums are mapping your home. Here's who sees the data",
    "{brand} to stop repairing older {model} units, owners say",
    "Right to repair law will cover {noun} spare parts from next year",
)
NEWS_COMMENTS = (
    "", "", "Oof.", "Well that's worrying.", "Check yours!", "Good to know.", "Called it.", "About time.",
    "If you have one of these, read this.", "Not surprised tbh.", "Interesting.", "Huh.",
)

# ---------------------------------------------------------------- helpers


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48]


def _short(rng: random.Random, n: int = 7) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(n))


def fill_url(template: str, rng: random.Random, slug: str) -> str:
    return template.format(
        slug=slug, n=rng.randrange(10000, 999999), vid=_short(rng, 11), vid5=_short(rng, 5).upper(),
        short=_short(rng), yyyy=rng.choice(("2023", "2024")), tag=rng.choice(AFFILIATE_TAGS),
    )


def with_tracking(url: str, rng: random.Random) -> str:
    """Add the tracking parameters that links copied from a shop or newsletter carry."""
    source = rng.choice(("mastodon", "social", "newsletter", "share", "ig"))
    extra = f"utm_source={source}&utm_medium={rng.choice(('social', 'referral', 'email'))}&utm_campaign={rng.randrange(100, 9999)}"
    return url + ("&" if "?" in url else "?") + extra


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


@dataclass(frozen=True, slots=True)
class Style:
    """How one author writes: the surface variation that makes two people's words differ."""

    lowercase: float = 0.1  # chance a post is all lower case
    typo: float = 0.02  # chance per word of a typo
    emoji: float = 0.15  # chance of a trailing emoji
    exclaim: float = 0.1  # chance of turning a full stop into '!'
    nbsp: float = 0.0  # chance of a no-break space after a sentence (phones, copy-paste)
    hashtag: float = 0.25  # chance of a hashtag on a product post

    @classmethod
    def random(cls, rng: random.Random) -> "Style":
        return cls(
            lowercase=rng.choice((0.0, 0.0, 0.05, 0.2, 0.7)),
            typo=rng.choice((0.0, 0.005, 0.01, 0.02, 0.04)),
            emoji=rng.choice((0.0, 0.05, 0.15, 0.3, 0.5)),
            exclaim=rng.choice((0.0, 0.1, 0.3)),
            nbsp=rng.choice((0.0, 0.0, 0.0, 0.02, 0.1)),
            hashtag=rng.choice((0.0, 0.1, 0.3, 0.5)),
        )


# A word of 4+ letters that is not part of a mention, hashtag or link.
_TYPO_WORD = re.compile(r"(?<![@#/\w.:=&?-])[A-Za-z]{4,}(?![\w/:.@]\w)")
_FIRST_STOP = re.compile(r"\.(\s|$)")
_CAPITALISED = re.compile(r"(^|\s)([A-Z][a-z']*)(?![A-Za-z])")  # "Hello" -> "hello", "LLC" stays


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    action = rng.random()
    if action < 0.4:  # swap two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if action < 0.7:  # drop a letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double a letter


def stylise(text: str, rng: random.Random, style: Style) -> str:
    """Apply an author's habits. Mentions, hashtags and links are left intact."""
    if style.typo:
        text = _TYPO_WORD.sub(lambda m: _typo(m.group(0), rng) if rng.random() < style.typo else m.group(0), text)
    if style.exclaim and rng.random() < style.exclaim:
        text = _FIRST_STOP.sub(r"!\1", text, count=1)
    if style.nbsp and rng.random() < style.nbsp:
        text = text.replace(". ", "." + NBSP + " ", 1)
    if style.lowercase and rng.random() < style.lowercase:
        text = _CAPITALISED.sub(lambda m: m.group(1) + m.group(2).lower(), text)
    if style.emoji and rng.random() < style.emoji:
        text = text.rstrip() + " " + rng.choice(EMOJI)
    return text


class Grammar:
    """Sentence builders over the phrase banks. Stateless apart from the brands it knows."""

    def __init__(self, brands: Sequence[Brand], product_nouns: Sequence[str] = PRODUCT_NOUNS,
                 hashtags: Sequence[str] = PRODUCT_HASHTAGS) -> None:
        self.brands = tuple(brands)
        self.nouns = tuple(product_nouns)
        self.hashtags = tuple(hashtags)

    # -- slots
    def _slots(self, rng: random.Random, brand: Brand | None = None, other: Brand | None = None, **extra: str) -> dict[str, str]:
        brand = brand or rng.choice(self.brands)
        if other is None or other is brand:
            others = [b for b in self.brands if b is not brand] or [brand]
            other = rng.choice(others)
        problem = rng.choice(brand.problems)
        strength = rng.choice(brand.strengths)
        other_problem = rng.choice(other.problems)
        slots = {
            "brand": brand.name, "model": rng.choice(brand.models), "handle": brand.handle,
            "problem": problem, "problem_cap": cap(problem), "strength": strength, "strength_cap": cap(strength),
            "other": other.name, "other_model": rng.choice(other.models), "other_problem": other_problem,
            "other_problem_cap": cap(other_problem), "noun": rng.choice(self.nouns), "noun2": "vacuum",
            "mess": rng.choice(MESSES), "pets": rng.choice(PETS), "price": rng.choice(PRICES),
            "tag": rng.choice(self.hashtags), "n": str(rng.randrange(2, 40)), "years": str(rng.randrange(2, 9)),
            "emoji": rng.choice(EMOJI), "pct": str(rng.choice((10, 15, 20, 25, 30, 40))), "nbsp": NBSP,
            "name": "", "year": rng.choice(("2024", "2025")),
        }
        slots.update(extra)
        return slots

    @staticmethod
    def _fill(template: str, slots: dict[str, str]) -> str:
        text = template.format(**slots)
        return re.sub(r"[ \t]{2,}", " ", text).strip()

    # -- everyday posts
    def everyday_post(self, rng: random.Random, topic: str) -> str:
        bank = TOPICS[topic]
        line = rng.choice(bank["lines"]).format(thing=rng.choice(bank["things"]), n=rng.randrange(2, 90), year="2024")
        text = rng.choice(OPENERS) + cap(line) + rng.choice(CLOSERS)
        if rng.random() < 0.2:
            second = rng.choice(bank["lines"]).format(thing=rng.choice(bank["things"]), n=rng.randrange(2, 90), year="2024")
            text += " " + cap(second)
        if rng.random() < 0.05:
            text += " " + fill_url(rng.choice(EVERYDAY_LINKS), rng, slugify(topic))
        return text

    def everyday_reply(self, rng: random.Random, topic: str) -> str:
        bank = TOPICS.get(topic)
        choice = rng.random()
        if choice < 0.35 or bank is None:
            return rng.choice(REACTIONS) + " " + rng.choice(FOLLOW_UPS)
        if choice < 0.7:
            thing = rng.choice(bank["things"])
            return rng.choice(REACTIONS) + " " + rng.choice((
                f"We tried {thing} last year, it was a whole saga.", f"Honestly {thing} is my favourite thing.",
                f"{cap(thing)} always gets me too.", f"Wait till you see what {thing} does next week.",
                f"I've been meaning to try {thing}.", f"Never understood the hype around {thing}.",
            ))
        if choice < 0.85:
            return rng.choice(FOLLOW_UPS)
        return rng.choice(REACTIONS)

    # -- product posts (humans)
    def product_question(self, rng: random.Random, brand: Brand | None = None) -> str:
        return self._fill(rng.choice(PRODUCT_QUESTIONS), self._slots(rng, brand))

    def product_complaint(self, rng: random.Random, brand: Brand) -> str:
        return self._fill(rng.choice(PRODUCT_COMPLAINTS), self._slots(rng, brand))

    def product_praise(self, rng: random.Random, brand: Brand) -> str:
        return self._fill(rng.choice(PRODUCT_PRAISE), self._slots(rng, brand))

    def product_misc(self, rng: random.Random) -> str:
        return self._fill(rng.choice(PRODUCT_MISC), self._slots(rng))

    def add_hashtag(self, rng: random.Random, text: str) -> str:
        return text if "#" in text else f"{text} #{rng.choice(self.hashtags)}"

    # -- product replies (humans, enthusiasts)
    def recommendation(self, rng: random.Random, brand: Brand | None = None, *, link: str | None = None,
                       deal: bool = False) -> str:
        slots = self._slots(rng, brand)
        text = self._fill(rng.choice(RECOMMEND_LEADS), slots) + ", " + self._fill(rng.choice(RECOMMEND_REASONS), slots) + "."
        if deal:
            text += " " + self._fill(rng.choice(DEAL_LINES), slots)
        if link:
            text += " " + rng.choice(LINK_LEADS).format(link=link)
        return text

    def product_link(self, rng: random.Random, brand: Brand, *, own: str | None = None, own_share: float = 0.0,
                     tracking: float = 0.2) -> str:
        """A link a product reply might carry: a review, a marketplace, the brand's shop, a shortener,
        or (with ``own_share``) the poster's own site ``own``."""
        model = rng.choice(brand.models)
        slug = slugify(f"{brand.name} {model}")
        roll = rng.random()
        if own and roll < own_share:
            url = f"{own}{rng.choice(('', '/deals', '/' + slugify(brand.name), '/shop', '/best-vacuum', '/' + slug))}"
        elif roll < own_share + (1 - own_share) * 0.45:
            url = fill_url(rng.choice(REVIEW_SITES), rng, slug)
        elif roll < own_share + (1 - own_share) * 0.85:
            url = fill_url(rng.choice(SHOP_SITES), rng, slug)
        else:
            url = f"{brand.shop_url}/{slug}"
        return with_tracking(url, rng) if rng.random() < tracking and "bit.ly" not in url else url

    def product_reply(self, rng: random.Random, mode: str, brand: Brand, *, other: Brand | None = None,
                      link: str | None = None, keyword: str | None = None, artefacts: bool = False,
                      name: str = "") -> str:
        """A reply to a product post, in one of the shared modes.

        ``recommend`` / ``deal`` / ``hook`` (a pitch) / ``warn`` (against another brand) /
        ``sympathy`` / ``praise`` (generic, fits any post) / ``advice`` (an informative paragraph
        ending "I recommend visiting <link>") / ``varied`` (the large grammar) / ``question`` /
        ``chat``. Humans and scripts both call this; only the mix of modes differs by kind.
        """
        if mode == "recommend":
            return self.recommendation(rng, brand, link=link)
        if mode == "deal":
            return self.recommendation(rng, brand, link=link, deal=True)
        if mode == "hook":
            slots = self._slots(rng, brand, name=name or "there")
            parts = [self._fill(rng.choice(PITCH_HOOKS), slots), self._fill(rng.choice(PITCH_BODIES), slots)]
            if rng.random() < 0.4:
                parts.append(self._fill(rng.choice(DEAL_LINES), slots))
            if link:
                parts.append((rng.choice(CTAS) + " " + link).strip())
            return " ".join(p for p in parts if p)
        if mode == "warn":
            target = other if other is not None and other is not brand else None
            text = self.smear(rng, brand, target or rng.choice([b for b in self.brands if b is not brand] or [brand]))
            return f"{text} {rng.choice(LINK_LEADS).format(link=link)}" if link else text
        if mode == "sympathy":
            return self.complaint_reply(rng, brand)
        if mode == "praise":
            text = self.generic_praise(rng)
            return f"{text} {link}" if link else text
        if mode == "advice":  # scripts promote a "guide" business; people point at a review site
            guide = f"{brand.name} Ventures LLC" if artefacts else rng.choice(ADVICE_GUIDES)
            return self.link_promo(rng, guide, link or self.product_link(rng, brand), artefacts=artefacts)
        if mode == "varied":
            return varied_pitch(rng, self, brand, link, keyword)
        if mode == "question":
            return self._fill(rng.choice(PRODUCT_FOLLOW_UPS), self._slots(rng, brand))
        if mode == "chat":
            return rng.choice(REACTIONS) + " " + rng.choice(FOLLOW_UPS)
        raise ValueError(f"unknown reply mode {mode!r}")

    def complaint_reply(self, rng: random.Random, brand: Brand) -> str:
        return self._fill(rng.choice(COMPLAINT_REPLIES), self._slots(rng, brand))

    def smear(self, rng: random.Random, brand: Brand, target: Brand) -> str:
        return self._fill(rng.choice(SMEAR_LINES), self._slots(rng, brand, other=target))

    def generic_praise(self, rng: random.Random) -> str:
        return rng.choice(GENERIC_PRAISE).format(nbsp=NBSP)

    def pushback(self, rng: random.Random, bot_acct: str) -> str:
        return rng.choice(SPAM_PUSHBACK).format(bot=bot_acct)

    # -- support
    def support_reply(self, rng: random.Random, brand: Brand, name: str, agent: str) -> str:
        slots = self._slots(rng, brand, name=name or "there")
        text = self._fill(rng.choice(SUPPORT_OPENERS), slots) + " " + self._fill(rng.choice(SUPPORT_BODIES), slots)
        return f"{text} ^{agent}"

    def support_followup(self, rng: random.Random, name: str, agent: str) -> str:
        return rng.choice(SUPPORT_FOLLOWUPS).format(name=name or "there") + f" ^{agent}"

    def link_promo(self, rng: random.Random, shop_name: str, link: str, *, artefacts: bool = True) -> str:
        """The 'peter smith' pattern: pseudo-informative text, 'I recommend visiting http://...'.

        With ``artefacts``, the newlines and no-break spaces of the script's source text are
        mangled as in the seed (``\\n`` → ``n``, U+00A0 → ``u00a0``).
        """
        topic = rng.choice(LINK_PROMO_TOPICS)
        slots = {"topic": topic, "topic_cap": cap(topic), "verb": rng.choice(LINK_PROMO_VERBS),
                 "noun": rng.choice(self.nouns), "shop_name": shop_name}
        intro = rng.choice(LINK_PROMO_INTROS).format(**slots)
        middle = rng.choice(LINK_PROMO_MIDDLES).format(**slots)
        closing = rng.choice(("Hope this helps.", "Good luck!", "Thanks.", "Cheers."))
        if not artefacts:
            return f"{intro} {middle} I recommend visiting {link} {closing}"
        words = f"{intro} {middle}".split(" ")
        for _ in range(rng.randrange(2, 5)):  # line breaks lost in the middle of sentences
            i = rng.randrange(1, len(words))
            words[i] = "n" + words[i]
        nbsp = "u00a0" if rng.random() < 0.7 else NBSP
        lead = rng.choice(("nn", f"{nbsp}nn", "", "nn"))
        glue = rng.choice((f"{nbsp} ", f" {nbsp} ", " "))
        return f"{lead}{' '.join(words)} I recommend visiting http:// {link}{glue}{closing.replace(' ', 'n', 1)}nnn"

    def news_post(self, rng: random.Random, story: NewsStory) -> str:
        comment = rng.choice(NEWS_COMMENTS)
        headline = story.headline if rng.random() < 0.7 else story.headline.lower()
        order = rng.random()
        if order < 0.5:
            return f"{headline} {story.url} {comment}".strip()
        if order < 0.8:
            return f"{comment} {headline}\n\n{story.url}".strip()
        return f"{story.url}\n\n{comment}".strip()

    def news_reply(self, rng: random.Random, story: NewsStory) -> str:
        return rng.choice(("Saw this? {url}", "Related: {url}", "{url} fyi", "There's an article on this: {url}",
                           "This just came out: {url}")).format(url=story.url)

    def make_news(self, rng: random.Random, brand: Brand) -> NewsStory:
        headline = rng.choice(NEWS_HEADLINES).format(
            brand=brand.name, model=rng.choice(brand.models), n=rng.randrange(5, 90), noun=rng.choice(("vacuum", "robot vacuum")))
        template, site = rng.choice(NEWS_SITES)
        return NewsStory(fill_url(template, rng, slugify(headline)), site, headline, brand.name)


# ---------------------------------------------------------------- a large grammar for bots whose every reply differs

_VARIED_OPEN = (
    "Oh", "Ah", "Hmm", "Honestly", "Funny you mention it", "Been there", "Good question", "So", "Okay so", "Ooh",
    "Right", "Same boat a while ago", "Not gonna lie", "Fwiw", "In my experience", "Speaking as a clean freak",
    "Ha", "Yes", "Real talk", "Tbh", "For what it's worth", "Totally get it", "Ugh",
)
_VARIED_CLAIMS = (
    "the {model} from {brand} changed everything for us", "{brand} has been rock solid in our house",
    "nothing beats the {brand} {model} for {mess}", "we went through three {noun}s before landing on {brand}",
    "the {brand} {model} is the only one that survived our {pet}", "I was skeptical about {brand} but the {model} won me over",
    "my {relative} swears by the {brand} {model}", "after years of cheap ones the {brand} {model} was a revelation",
    "{brand} quietly makes the best {noun} around", "the {model} handles {mess} like it's nothing",
)
_VARIED_DETAILS = (
    "battery easily does the whole house", "the bin is huge", "it's quieter than you'd think", "filters last ages",
    "it climbs rugs no problem", "the attachments actually make sense", "it's light enough for my {relative}",
    "edges and corners come out spotless", "it doesn't tangle on long hair", "cleaning it takes two minutes",
    "support was great when we needed a part", "it fits under the sofa", "the app is optional, which I love",
)
_VARIED_ASIDES = (
    "not sponsored lol", "just my two cents", "ymmv", "wish I'd bought it sooner", "no regrets",
    "the {pet} even tolerates it", "would buy again", "happy to answer questions", "best money I spent this year", "",
)
_VARIED_CTA = (
    "They've got it here: {link}", "Link if useful: {link}", "Found it cheapest at {link}", "{link} has it in stock",
    "Worth a look: {link}", "Specs are on {link}", "This page compares them: {link}", "{link}",
)
_RELATIVES = ("mum", "dad", "gran", "partner", "sister", "neighbour", "flatmate", "uncle")
_PETS_SHORT = ("cat", "dog", "husky", "two cats", "rabbit", "labrador")
_JOINERS = (", ", " - ", ". ", "... ", " — ", "; ")
_ENDS = (".", "!", "", " :)", ".", "!!")


def varied_pitch(rng: random.Random, grammar: Grammar, brand: Brand, link: str | None, keyword: str | None) -> str:
    """One reply from a large grammar: ~10^8 surface forms, so no two replies of a bot match."""
    slots = grammar._slots(rng, brand)
    slots.update(relative=rng.choice(_RELATIVES), pet=rng.choice(_PETS_SHORT))
    pieces = [rng.choice(_VARIED_OPEN)]
    if keyword and rng.random() < 0.5:
        pieces.append(rng.choice((f"re the {keyword}", f"about {keyword}s", f"on the {keyword} front", f"for a {keyword}")))
    claim = rng.choice(_VARIED_CLAIMS).format(**slots)
    detail = rng.choice(_VARIED_DETAILS).format(**slots)
    aside = rng.choice(_VARIED_ASIDES).format(**slots)
    text = " ".join(pieces) + rng.choice((", ", ". ", " - ", "! ")) + claim + rng.choice(_JOINERS) + detail
    if aside:
        text += rng.choice(_JOINERS) + aside
    text = cap(text.strip()) + rng.choice(_ENDS)
    if link:
        text += " " + rng.choice(_VARIED_CTA).format(link=link)
    return text
