"""What the switchboard itself says in the voicemail service (333) and the record-by-phone
callback: the instructions, menus and confirmations, in Swedish and English.

They are not recorded by anyone, so no backup fault can lose them: the phone asks for a
prompt by name and gets it synthesised (offline espeak-ng when the internet is away).
"""

from __future__ import annotations

PREFIX = "sys:"

PROMPTS: dict[str, dict[str, str]] = {
    "callback_instructions": {
        "sv": "Hej, det här är växeln. Tala in ditt meddelande efter tonen. "
        "Tryck fyrkant när du är klar, eller lägg på för att spara.",
        "en": "Hello, this is the switchboard. Record your message after the tone. "
        "Press hash when you are done, or hang up to save it.",
    },
    "callback_review": {
        "sv": "Tryck ett för att lyssna, två för att spela in igen, fyrkant för att spara. "
        "Lägger du på sparas meddelandet.",
        "en": "Press one to listen, two to record again, hash to save. "
        "If you hang up, the message is saved.",
    },
    "callback_saved": {
        "sv": "Meddelandet är sparat. Hej då.",
        "en": "The message is saved. Goodbye.",
    },
    "callback_no_audio": {
        "sv": "Jag hörde ingenting. Försök igen efter tonen.",
        "en": "I did not hear anything. Try again after the tone.",
    },
    "vm_menu": {
        "sv": "Röstbrevlådan. Tryck fem för att spela in en personlig hälsningsfras, "
        "fyra för att lyssna på den, sex för att ta bort den, ett för nya meddelanden.",
        "en": "Voicemail. Press five to record a personal greeting, four to listen to it, "
        "six to delete it, one for new messages.",
    },
    "vm_record_after_tone": {
        "sv": "Tala in din hälsningsfras efter tonen. Avsluta med noll.",
        "en": "Speak your greeting after the tone. Finish with zero.",
    },
    "vm_greeting_saved": {"sv": "Hälsningsfrasen är sparad.", "en": "Your greeting is saved."},
    "vm_greeting_deleted": {
        "sv": "Hälsningsfrasen är borttagen. Den vanliga hälsningen spelas nu upp.",
        "en": "Your greeting is deleted. The default greeting plays now.",
    },
    "vm_no_greeting": {
        "sv": "Du har ingen personlig hälsningsfras.",
        "en": "You have no personal greeting.",
    },
    "vm_no_messages": {"sv": "Du har inga nya meddelanden.", "en": "You have no new messages."},
    "vm_invalid": {"sv": "Ogiltigt val.", "en": "Invalid choice."},
    "vm_enter_mailbox": {
        "sv": "Ange ditt anknytningsnummer och avsluta med fyrkant.",
        "en": "Enter your extension followed by hash.",
    },
    "vm_enter_pin": {
        "sv": "Ange din kod och avsluta med fyrkant.",
        "en": "Enter your PIN followed by hash.",
    },
    "default_greeting": {
        "sv": "Personen du söker kan inte svara just nu. Lämna ett meddelande efter tonen.",
        "en": "The person you are calling cannot answer. Leave a message after the tone.",
    },
    "goodbye": {"sv": "Hej då.", "en": "Goodbye."},
    "dnd_on": {
        "sv": "Stör ej är på. Dina samtal behandlas som upptagna.",
        "en": "Do not disturb is on. Your calls are treated as busy.",
    },
    "dnd_off": {"sv": "Stör ej är av.", "en": "Do not disturb is off."},
}

# "You are number N in the queue", one prompt per position; the last serves every later one.
_ORDINALS = (
    ("ett", "one"), ("två", "two"), ("tre", "three"), ("fyra", "four"), ("fem", "five"),
    ("sex", "six"), ("sju", "seven"), ("åtta", "eight"), ("nio", "nine"),
)  # fmt: skip
QUEUE_POSITIONS = [f"queue_position_{n}" for n in range(1, len(_ORDINALS) + 1)]
QUEUE_POSITIONS.append("queue_position_many")
for _name, (_sv, _en) in zip(QUEUE_POSITIONS, _ORDINALS, strict=False):
    PROMPTS[_name] = {
        "sv": f"Du är nummer {_sv} i kön.",
        "en": f"You are number {_en} in the queue.",
    }
PROMPTS["queue_position_many"] = {
    "sv": "Det är många samtal före dig i kön.",
    "en": "There are many calls ahead of you in the queue.",
}


def slot_id(name: str) -> str:
    return PREFIX + name


def text_of(prompt_slot_id: str, language: str = "sv") -> str | None:
    """The words of a system prompt by its slot id ("sys:vm_menu"); None if not one."""
    if not prompt_slot_id.startswith(PREFIX):
        return None
    texts = PROMPTS.get(prompt_slot_id[len(PREFIX) :])
    if texts is None:
        return None
    return texts.get(language) or texts["sv"]
