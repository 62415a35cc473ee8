"""Synthetic enumerations for the reader: passages that break a total down by field, region or
group ("분야별로는 교육 분야 12, 관광 분야 7, …"), with questions about one item, about the total,
or about an item the list does not hold (no answer).

Press releases state counts this way and reading-comprehension data hardly ever does, so a reader
trained on KorQuAD and TyDi answers the first number of such a list, whatever item is asked. The
items, units and sentence shapes here are generic and seeded; none is taken from ``eval/`` or the
bundled corpus, and the development items are disjoint from the training items. The sentences
around the list come from the run's own training passages.
"""
from __future__ import annotations

import random
import re

from ..language import has_final_consonant
from .data import Example

# (Korean, English) items of a breakdown, by kind.
FIELDS = (
    ("교육", "education"), ("관광", "tourism"), ("에너지", "energy"), ("바이오", "biotech"),
    ("농업", "agriculture"), ("물류", "logistics"), ("금융", "finance"), ("게임", "game"),
    ("드론", "drone"), ("반도체", "semiconductor"), ("문화콘텐츠", "cultural content"),
    ("환경", "environment"), ("제조", "manufacturing"), ("유통", "retail"), ("의료기기", "medical device"),
    ("소프트웨어", "software"), ("통신", "telecom"), ("건설", "construction"), ("식품", "food"),
    ("화학", "chemical"), ("항공", "aviation"), ("조선", "shipbuilding"), ("가전", "home appliance"),
    ("섬유", "textile"), ("광고", "advertising"), ("출판", "publishing"), ("영상", "video"),
    ("음악", "music"), ("스포츠", "sports"), ("패션", "fashion"), ("디자인", "design"),
    ("수산", "fisheries"), ("해양", "marine"), ("우주", "space"), ("신소재", "new materials"),
    ("스마트팜", "smart farm"), ("핀테크", "fintech"), ("클라우드", "cloud"), ("메타버스", "metaverse"),
    ("블록체인", "blockchain"), ("사물인터넷", "internet of things"), ("가상현실", "virtual reality"),
    ("이차전지", "battery"), ("수소", "hydrogen"), ("태양광", "solar power"), ("풍력", "wind power"),
    ("교통", "transport"), ("복지", "welfare"), ("주거", "housing"), ("반려동물", "pet"),
    ("화장품", "cosmetics"), ("제약", "pharmaceutical"), ("인쇄", "printing"), ("기계", "machinery"),
    ("전자", "electronics"), ("철강", "steel"), ("숙박", "lodging"), ("외식", "restaurant"),
)
REGIONS = (
    ("서울", "Seoul"), ("부산", "Busan"), ("대구", "Daegu"), ("인천", "Incheon"), ("대전", "Daejeon"),
    ("울산", "Ulsan"), ("세종", "Sejong"), ("수원", "Suwon"), ("창원", "Changwon"), ("전주", "Jeonju"),
    ("청주", "Cheongju"), ("제주", "Jeju"), ("춘천", "Chuncheon"), ("포항", "Pohang"), ("여수", "Yeosu"),
    ("목포", "Mokpo"), ("천안", "Cheonan"), ("김해", "Gimhae"), ("원주", "Wonju"), ("안동", "Andong"),
)
GROUPS = (
    ("20대", "in their twenties"), ("30대", "in their thirties"), ("40대", "in their forties"),
    ("50대", "in their fifties"), ("60대 이상", "aged sixty or over"), ("남성", "men"), ("여성", "women"),
    ("청소년", "teenagers"), ("대학생", "university students"), ("외국인", "foreigners"),
    ("초등학생", "elementary school pupils"), ("중학생", "middle school students"),
    ("고등학생", "high school students"), ("직장인", "office workers"), ("주부", "homemakers"),
    ("노인", "senior citizens"), ("장애인", "people with disabilities"), ("자영업자", "self-employed people"),
    ("공무원", "civil servants"), ("은퇴자", "retirees"),
)
# (Korean entity, English entity, counters) by kind of item.
ENTITIES = {
    "field": (("기업", "companies", ("개", "개사", "곳")), ("기관", "institutions", ("곳", "개소", "개")),
              ("과제", "projects", ("건", "개")), ("업체", "firms", ("곳", "개사"))),
    "region": (("센터", "centers", ("곳", "개소")), ("학교", "schools", ("곳", "개교")),
               ("사업장", "workplaces", ("곳", "개")), ("행사", "events", ("건", "회"))),
    "group": (("참가자", "participants", ("명",)), ("응답자", "respondents", ("명",)),
              ("신청자", "applicants", ("명",)), ("수강생", "trainees", ("명",))),
}
KINDS = {"field": FIELDS, "region": REGIONS, "group": GROUPS}


def _josa(word: str, with_final: str, without: str) -> str:
    return word + (with_final if has_final_consonant(word) else without)


def split_items(seed: int, dev_share: float = 0.25) -> tuple[dict, dict]:
    """Each kind's items split into training and development items (disjoint, seeded)."""
    rng = random.Random(seed)
    train, dev = {}, {}
    for kind, items in KINDS.items():
        shuffled = list(items)
        rng.shuffle(shuffled)
        cut = max(5, round(dev_share * len(shuffled)))
        dev[kind], train[kind] = shuffled[:cut], shuffled[cut:]
    return train, dev


def _list_sentence(rng: random.Random, kind: str, items, counts, entity: str, counter: str,
                   total: int | None) -> tuple[str, list[tuple[int, str]]]:
    """The list sentence and, per item, where its count is written (start, text as written)."""
    shape = rng.randrange(6)
    field_word = " 분야" if kind == "field" and rng.random() < 0.6 else ""
    topic = _josa(entity, "은", "는")
    if shape in (0, 1) and total is not None:
        text = f"{total}{counter}의 {topic} {'분야별로는' if kind == 'field' else '세부적으로'} "
    elif shape in (0, 1):
        text = f"{_josa(entity, '을', '를')} {'분야별로' if kind == 'field' else '나눠'} 보면 "
    elif shape == 5:
        text = f"{entity} 현황은 "
    else:
        text = f"{topic} " if shape == 3 else ""
    sep = {3: "·", 5: " / "}.get(shape, ", ")
    spans = []
    for n, ((name, _), count) in enumerate(zip(items, counts)):
        value = f"{count}{counter}" if shape != 0 or n == len(items) - 1 else f"{count}"
        if shape in (0, 1):  # 교육 분야 12, 관광 분야 7, … 환경 분야 2개 기업 등이다 / 교육 12개, 관광 7개
            part = f"{name}{field_word} {value}"
        elif shape == 2:  # 교육(12개), 관광(7개)
            part = f"{name}({value})"
        elif shape == 3:  # 교육 12개·관광 7개
            part = f"{name} {value}"
        elif shape == 4:  # 교육이 12개로 가장 많았고, 관광 7개, …
            part = f"{_josa(name, '이', '가')} {_josa(value, '으로', '로')} 가장 많았고" if n == 0 else f"{name} {value}"
        else:  # 교육: 12개 / 관광: 7개
            part = f"{name}: {value}"
        if n:
            text += sep
        spans.append((len(text) + part.rindex(value), value))
        text += part
    if shape == 0:
        text += f" {entity} 등이다."
    elif shape == 2:
        text += f" 등 모두 {total if total is not None else sum(counts)}{counter}의 {_josa(entity, '이', '가')} 참여한다."
    elif shape == 4:
        text += " 순이었다."
    else:
        text += "이다." if has_final_consonant(text) else "다."
    return text, spans


def _questions(rng: random.Random, kind: str, name: str, name_en: str, entity: str, entity_en: str,
               counter: str) -> tuple[str, str]:
    """A Korean or an English question about one item (language, question)."""
    if rng.random() < 0.2:
        field = f"the {name_en} sector" if kind == "field" else name_en
        templates = (f"How many {entity_en} are in {field}?", f"How many {name_en} {entity_en} are there?",
                     f"What is the number of {entity_en} in {field}?",
                     f"How many of the {entity_en} are {name_en}?" if kind == "group" else
                     f"How many {entity_en} does {field} have?")
        question = rng.choice(templates)
        if rng.random() < 0.7:  # the product reads an English question with its Korean terms after it
            question += f" ({name} {entity})"
        return "en", question
    field = f"{name} 분야" if kind == "field" and rng.random() < 0.5 else name
    templates = (f"{field} {_josa(entity, '은', '는')} 몇 {counter}인가요?", f"{_josa(field, '은', '는')} 몇 {counter}야?",
                 f"{field} {entity} 수는?", f"{field}에 해당하는 {_josa(entity, '은', '는')} 몇 {counter}입니까?",
                 f"{entity} 가운데 {_josa(field, '은', '는')} 얼마나 돼?", f"{field} 관련 {_josa(entity, '은', '는')} 모두 몇 {_josa(counter, '이에요', '예요')}?",
                 f"{field} {entity} 몇 {counter}?")
    return "ko", rng.choice(templates)


def _sentences(passages: list[str]) -> list[str]:
    out = []
    for p in passages:
        out += [s.strip() for s in re.split(r"(?<=[다요]\.)\s+", p) if 20 <= len(s.strip()) <= 200]
    return out


def enumerations(n: int, seed: int, items: dict, filler: list[str], no_answer_share: float = 0.15,
                 prefix: str = "lists-") -> list[Example]:
    """``n`` seeded questions over synthetic breakdowns of the given items, with sentences of
    ``filler`` passages around each list."""
    rng = random.Random(seed)
    sentences = _sentences(filler)
    examples = []
    for i in range(n):
        kind = rng.choice(("field", "field", "region", "group"))
        pool = items[kind]
        k = rng.randint(3, min(8, len(pool) - 1))
        chosen = rng.sample(pool, k + 1)
        listed, absent = chosen[:k], chosen[k]
        entity, entity_en, counters = rng.choice(ENTITIES[kind])
        counter = rng.choice(counters)
        counts = sorted((rng.choice((rng.randint(1, 9), rng.randint(1, 40), rng.randint(10, 300)))
                         for _ in range(k)), reverse=rng.random() < 0.6)
        total = sum(counts) if rng.random() < 0.6 else None
        sentence, spans = _list_sentence(rng, kind, listed, counts, entity, counter, total)
        before = " ".join(rng.sample(sentences, rng.randint(0, 2)))
        after = " ".join(rng.sample(sentences, rng.randint(0, 2)))
        context = (before + " " if before else "") + sentence + (" " + after if after else "")
        offset = len(before) + 1 if before else 0
        roll = rng.random()
        if roll < no_answer_share:
            language, question = _questions(rng, kind, absent[0], absent[1], entity, entity_en, counter)
            start, text = -1, ""
        elif roll < no_answer_share + 0.1 and total is not None and str(total) in sentence:
            question = rng.choice((f"{_josa(entity, '은', '는')} 모두 몇 {counter}인가요?",
                                   f"전체 {entity} 수는?", f"How many {entity_en} are there in all?"))
            language = "en" if question.startswith("How") else "ko"
            at = sentence.index(f"{total}{counter}")
            start, text = offset + at, f"{total}{counter}"
        else:
            j = rng.randrange(k)
            language, question = _questions(rng, kind, listed[j][0], listed[j][1], entity, entity_en, counter)
            start, text = offset + spans[j][0], spans[j][1]
        assert start < 0 or context[start:start + len(text)] == text, (context, start, text)
        examples.append(Example(qid=f"{prefix}{i}", question=question, context=context, answer_start=start,
                                answer_text=text, answers=(text,) if text else (), passage_id=f"{prefix}{i}",
                                language=language))
    return examples
