"""The years a question gives and the years a document speaks of."""
from bot.years import years_asked, years_stated


def test_the_years_a_question_gives_and_a_document_speaks_of():
    assert years_asked("Who won the 2030 World Cup?") == ("2030",)
    assert years_asked("2010년 내륙에서 발생한 지진은 몇 번이야?") == ("2010",)
    assert years_asked("규모 2,013의 숫자와 1.2015") == ()  # not years
    assert years_stated("지난해 10월 첫 협약", "2020-11") == {"2019", "2020"}
    assert years_stated("내년 1월 시행", "2016-12-01") == {"2016", "2017"}
    assert years_stated("17년 1월 1일부터", "2016-12-01") == {"2016", "2017"}
    assert years_stated("1997년 발효") == {"1997"}



def test_a_sentence_dated_to_another_year_states_no_value_for_the_year_asked():
    from bot.years import may_be_about

    assert not may_be_about("2025년 2분기 해외직접투자액은 141.5억 달러로 감소하였다.", ("2024",))
    assert may_be_about("2024년 1분기 해외직접투자액은 150.9억 달러로 감소하였다.", ("2024",))
    assert may_be_about("지금까지 협약 기업은 총 57개사로 늘었다.", ("2024",))  # no year written
    assert may_be_about("2025년 2분기 투자액은 141.5억 달러", ())  # the question gives none
