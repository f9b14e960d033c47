"""Realistic demo data, loaded through the same services the pages and the API use.

Everything is generated from one seeded random.Random, so two fresh databases get the same
people; loading again into a database that already has the demo universities does nothing.
"""

import csv
import io
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, func, select

from app import clock
from app.auth import service as auth
from app.auth.models import User
from app.certificates import issuing
from app.companies import service as companies
from app.companies.models import Company
from app.companies.validators import fake_uscc
from app.completions import service as completions
from app.config import Settings
from app.courses import service as courses
from app.courses.models import Course, CourseCreate
from app.db import id_of, session_factory
from app.enrollments import service as enrollments
from app.enrollments.models import EnrollmentCreate
from app.jobs import runner
from app.security import keys_of
from app.trainees.validators import fake_id_number
from app.universities import service as universities
from app.universities.models import University, UniversityCreate

SEED = 20261128
MARKER = "QLU"  # present means the demo (or a real QLU) is already there
ADMIN = ("admin@dandelion.local", "dandelion-admin")
# The other two of the three duties (三员), so that a new user can see each role's pages.
OVERSEERS = (
    ("security@dandelion.local", "dandelion-security", "security"),
    ("auditor@dandelion.local", "dandelion-auditor", "auditor"),
)
STAFF_PASSWORD = "dandelion-staff"
ACTOR = "cli"

UNIVERSITIES = (
    ("QLU", "齐鲁工业大学", "3701"),
    ("QDU", "青岛大学", "3702"),
    ("SDUT", "山东理工大学", "3703"),
    ("WFU", "潍坊学院", "3707"),
    ("YTU", "烟台大学", "3706"),
    ("DZU", "德州学院", "3714"),
)
# (title, hours, industry cluster, description); each university offers two or three, the
# third one starting soon.
TOPICS = (
    ("数字化印染工艺", 32, "printing_and_dyeing", "从配色打样到在线监测：数字化印染的工艺与设备。"),
    (
        "服装智能制造与MES",
        40,
        "knitwear",
        "制造执行系统（MES）在服装车间的落地：排产、扫码报工与质量追溯。",
    ),
    (
        "纺织品跨境电商运营",
        24,
        "home_textiles",
        "跨境平台选品、上架与物流，面向纺织企业的外贸业务人员。",
    ),
    (
        "3D服装设计 (Style3D)",
        32,
        "children_clothing",
        "用 Style3D 完成从版型到虚拟样衣的数字化设计流程。",
    ),
    ("工业互联网与数据分析", 48, "cotton_textiles", "纺纱织造设备联网、数据采集与生产数据分析。"),
    ("智能针织装备运维", 32, "knitwear", "电脑横机与圆机的数字化运维、故障诊断与保养。"),
    ("纺织品数字化检测与质量追溯", 24, "home_textiles", "用机器视觉验布、检测数据上链与质量追溯。"),
    ("家纺产品数字化设计", 32, "home_textiles", "花型设计软件、数字印花与家纺产品的数字化开发。"),
    ("服装直播电商实务", 16, "other", "直播选品、脚本与数据复盘，适合服装企业的电商团队。"),
)
MODES = ("on_site", "mixed", "online")
# Telephone area codes of the demo universities' cities.
AREA_CODES = {
    "3701": "0531",
    "3702": "0532",
    "3703": "0533",
    "3706": "0535",
    "3707": "0536",
    "3714": "0534",
}
# Fictional employers: (name, USCC region code, industry cluster).
COMPANIES = (
    ("滨州鲁宏纺织股份有限公司", "371600", "cotton_textiles"),
    ("邹平恒泰棉纺有限公司", "371626", "cotton_textiles"),
    ("夏津银河棉纺织有限公司", "371427", "cotton_textiles"),
    ("冠县丰源棉业有限公司", "371525", "cotton_textiles"),
    ("高密锦程家纺有限公司", "370785", "home_textiles"),
    ("潍坊蓝海家纺科技有限公司", "370700", "home_textiles"),
    ("章丘绣品家纺有限公司", "370181", "home_textiles"),
    ("青岛海韵针织服饰有限公司", "370200", "knitwear"),
    ("即墨织锦针织有限公司", "370215", "knitwear"),
    ("青岛崂山针织时装有限公司", "370212", "knitwear"),
    ("淄博齐纺印染有限公司", "370300", "printing_and_dyeing"),
    ("德州华盛印染股份有限公司", "371400", "printing_and_dyeing"),
    ("昌邑润彩印染有限公司", "370786", "printing_and_dyeing"),
    ("烟台新纶高性能纤维有限公司", "370600", "high_end_fibres"),
    ("济南泉城新材料纤维有限公司", "370100", "high_end_fibres"),
    ("淄博博纤碳纤维科技有限公司", "370304", "high_end_fibres"),
    ("乐陵鲁北绳网制品有限公司", "371481", "rope_and_net"),
    ("惠民渔丰绳网有限公司", "371621", "rope_and_net"),
    ("无棣海星绳网科技有限公司", "371623", "rope_and_net"),
    ("临沂童梦童装有限公司", "371300", "children_clothing"),
    ("青岛小海豚童装服饰有限公司", "370200", "children_clothing"),
    ("沂蒙山童装科技有限公司", "371300", "children_clothing"),
    ("济宁鲁绒毛衫有限公司", "370800", "sweaters"),
    ("枣庄暖阳羊毛衫有限公司", "370400", "sweaters"),
    ("烟台东方毛纺织有限公司", "370600", "sweaters"),
    ("泰安瑞通产业用纺织品有限公司", "370900", "industrial_textiles"),
    ("东营黄河土工布有限公司", "370500", "industrial_textiles"),
    ("博山洁源非织造布有限公司", "370304", "industrial_textiles"),
    ("威海海之星服饰有限公司", "371000", "other"),
    ("曹县锦绣汉服文化有限公司", "371721", "other"),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟秦孔颜"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰飞鹏辉浩宇晨欣怡"
    "子轩梓涵雨桐佳琪俊杰文博海燕建国志强春梅晓东丽娟红霞国庆"
)
# Names the system must handle well: extension-plane characters, minority names, and a
# foreigner with a 2023 permanent residence ID (9, Shandong 37, Germany 276).
SPECIAL_NAMES = (
    ("李䶮", None),
    ("𠮷田", None),
    ("王𠮷", None),
    ("阿依古丽·买买提", "650102"),
    ("买买提·艾力", "650103"),
    ("热依拉·艾买提", "652801"),
    ("Anna Schmidt", "937276"),
)
OUT_OF_PROVINCE = ("410102", "130102", "320102", "220102", "340102")


@dataclass
class Person:
    name: str
    id_number: str
    mobile: str
    company: Company
    home: University
    courses: list[Course] = field(default_factory=list)


def load(session: Session, settings: Settings, *, trainees: int = 300) -> str:
    if settings.environment == "production":  # the CLI refuses first; this is the second line
        raise RuntimeError("demo data is never loaded in production: its passwords are public")
    if session.exec(select(University).where(University.code == MARKER)).first():
        return f"demo data already loaded (university {MARKER} exists): nothing changed"
    rng, today = random.Random(SEED), clock.today()
    unis = _universities(session)
    staff = _accounts(session, unis)
    offered = {id_of(u): _courses(session, rng, u, today, trainees) for u in unis}
    employers = _companies(session, rng)
    people = _enroll_all(session, rng, unis, offered, employers, trainees, today)
    batches = [_upload(session, rng, u, staff[id_of(u)], people, settings, today) for u in unis]
    batches = [b for b in batches if b is not None]
    issued, refused = _certify(session, unis, offered, settings)
    session.commit()
    return _summary(session, unis, people, batches, issued, refused)


def _universities(session: Session) -> list[University]:
    return [
        universities.create(
            session, UniversityCreate(code=code, name=name, city_code=city), actor="demo"
        )
        for code, name, city in UNIVERSITIES
    ]


def _accounts(session: Session, unis: list[University]) -> dict[int, User]:
    if auth.get_by_email(session, ADMIN[0]) is None:
        auth.create_user(session, email=ADMIN[0], password=ADMIN[1], role="admin", actor="demo")
    for email, password, role in OVERSEERS:
        if auth.get_by_email(session, email) is None:
            auth.create_user(session, email=email, password=password, role=role, actor="demo")
    staff: dict[int, User] = {}
    for u in unis:
        email = staff_email(u)
        staff[id_of(u)] = auth.get_by_email(session, email) or auth.create_user(
            session,
            email=email,
            password=STAFF_PASSWORD,
            role="staff",
            university_id=u.id,
            actor="demo",
        )
    return staff


def staff_email(university: University) -> str:
    return f"staff@{university.code.lower()}.edu.cn"


def _courses(
    session: Session, rng: random.Random, university: University, today: date, trainees: int
) -> list[Course]:
    index = [u[0] for u in UNIVERSITIES].index(university.code)
    count = 3 if index % 2 == 0 else 2
    scale = max(1, math.ceil(trainees / 300))
    offered = []
    for n in range(count):
        title, hours, cluster, summary = TOPICS[(index * 2 + n) % len(TOPICS)]
        upcoming = n == 2  # enrolling now, starting in two weeks: no completions yet
        starts = (
            today + timedelta(days=14) if upcoming else today - timedelta(days=rng.randint(45, 75))
        )
        data = CourseCreate(
            code=f"{university.code}-{today.year}-{n + 1:02d}",
            title=title,
            hours=Decimal(hours),
            capacity=rng.choice((60, 80, 100, 120)) * scale,
            starts_on=starts,
            ends_on=starts + timedelta(days=rng.randint(75, 105)),
            cluster=cluster,
            **_details(university, summary, MODES[n]),
        )
        offered.append(
            courses.create(session, university=university, data=data, actor="demo", today=today)
        )
    return offered


def _details(university: University, summary: str, mode: str) -> dict:
    """What a trainee decides by, for a demo course of this university."""
    area = AREA_CODES.get(university.city_code, "0531")
    return {
        "description": f"{summary}\n\n由{university.name}与行业企业共同授课，结业颁发证书。",
        "mode": mode,
        "venue": None if mode == "online" else f"{university.name}继续教育学院 实训楼 201",
        "schedule": "每周六 9:00–12:00 讲授\n每周六 14:00–17:00 上机实训"
        + ("\n线上直播：每周三 19:00–20:30" if mode != "on_site" else ""),
        "contact_name": "继续教育学院培训办",
        "contact_phone": f"{area}-8861{len(university.code):04d}",
        "contact_email": f"peixun@{university.code.lower()}.edu.cn",
        "audience": "纺织服装企业的技术人员、一线班组长与管理人员",
    }


def _companies(session: Session, rng: random.Random) -> list[Company]:
    found = []
    for name, region, cluster in COMPANIES:
        # Registered the way a trainee names an employer, then filed as an administrator would.
        company = companies.find_or_create(session, uscc=fake_uscc(rng, region=region), name=name)
        found.append(companies.set_cluster(session, company=company, cluster=cluster, actor="demo"))
    return found


def _enroll_all(
    session: Session,
    rng: random.Random,
    unis: list[University],
    offered: dict[int, list[Course]],
    employers: list[Company],
    trainees: int,
    today: date,
) -> list[Person]:
    people: list[Person] = []
    used_ids: set[str] = set()
    for i in range(trainees):
        home = unis[i % len(unis)]
        person = _person(rng, i, home, employers, used_ids)
        choices = [offered[id_of(home)]]
        if rng.random() < 0.35:  # a second course, sometimes at another university
            choices.append([c for cs in offered.values() for c in cs])
        for courses_here in choices:
            course = _open_course(rng, courses_here, person)
            if course is not None:
                _enroll(session, rng, person, course, today)
        if person.courses:
            people.append(person)
    return people


def _person(
    rng: random.Random, i: int, home: University, employers: list[Company], used_ids: set[str]
) -> Person:
    name, region = SPECIAL_NAMES[i] if i < len(SPECIAL_NAMES) else (_chinese_name(rng), None)
    if region is None:
        region = (
            rng.choice(OUT_OF_PROVINCE)
            if rng.random() < 0.1
            else f"{home.city_code}{rng.choice(('02', '03', '05', '11', '21', '81'))}"
        )
    born = date(1975, 1, 1) + timedelta(days=rng.randrange(30 * 365))
    number = fake_id_number(rng, region=region, birth=born)
    while number in used_ids:
        number = fake_id_number(rng, region=region, birth=born)
    used_ids.add(number)
    mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    local = [c for c in employers if c.city_code == home.city_code]
    company = rng.choice(local if local and rng.random() < 0.6 else employers)
    return Person(name, number, mobile, company, home)


def _chinese_name(rng: random.Random) -> str:
    surname = rng.choice(("欧阳", "司马", "诸葛")) if rng.random() < 0.02 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _open_course(rng: random.Random, choices: list[Course], person: Person) -> Course | None:
    left = [c for c in choices if c.seats_left > 0 and c not in person.courses]
    return rng.choice(left) if left else None


def _enroll(
    session: Session, rng: random.Random, person: Person, course: Course, today: date
) -> None:
    data = EnrollmentCreate(
        course_code=course.code,
        name=person.name,
        id_number=person.id_number,
        mobile=person.mobile,
        company_uscc=person.company.uscc,
        consent=True,
        share_with_employer=rng.random() < 0.7,
    )
    enrollments.enroll(session, data, channel=rng.choice(("web", "web", "api")), today=today)
    person.courses.append(course)


def _upload(
    session: Session,
    rng: random.Random,
    university: University,
    staff: User,
    people: list[Person],
    settings: Settings,
    today: date,
):
    """One CSV per university, as its staff would export it: about 60% of its enrollments."""
    rows = [
        [person.name, person.id_number, course.code, _completed_on(rng, course, today), _score(rng)]
        for person in people
        for course in person.courses
        if course.university_id == university.id and course.starts_on < today and rng.random() < 0.6
    ]
    if not rows:
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["姓名", "身份证号", "课程代码", "结业日期", "成绩"])
    writer.writerows(rows)
    upload = completions.Upload(
        university=university,
        data=out.getvalue().encode("utf-8"),
        filename=f"{university.code}-结业名单-{today:%Y%m%d}.csv",
        user_id=staff.id,
    )
    return completions.import_file(session, upload, data_dir=settings.data_dir, today=today)


def _completed_on(rng: random.Random, course: Course, today: date) -> str:
    earliest = max(course.starts_on, today - timedelta(days=30))
    return (earliest + timedelta(days=rng.randint(0, (today - earliest).days))).isoformat()


def _score(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return ""  # some courses record attendance only
    return str(rng.randint(60, 99)) if rng.random() < 0.7 else f"{rng.uniform(60, 100):.1f}"


def _certify(
    session: Session, unis: list[University], offered: dict[int, list[Course]], settings: Settings
) -> tuple[int, int]:
    """The first course of the first three universities gets its certificates, the way a
    clerk's press does: a job each, run here rather than by a worker, left on /jobs."""
    session.commit()  # the job's own sessions read the completions (and SQLite's lock is free)
    sessions = session_factory(session.get_bind().engine, keys_of(session))
    issued = refused = 0
    for university in unis[:3]:
        job = issuing.start(session, offered[id_of(university)][0], actor=ACTOR)
        if job is None:
            continue
        session.commit()
        runner.run(sessions, settings, id_of(job))
        session.refresh(job)
        issued, refused = issued + job.done, refused + job.failed
    return issued, refused


def _summary(
    session: Session,
    unis: list[University],
    people: list[Person],
    batches: list,
    issued: int,
    refused: int,
) -> str:
    n_companies = session.exec(select(func.count()).select_from(Company)).one()
    n_courses = session.exec(select(func.count()).select_from(Course)).one()
    enrolled = sum(len(p.courses) for p in people)
    accepted = sum(b.accepted for b in batches)
    staff = ", ".join(staff_email(u) for u in unis)
    return (
        f"demo loaded: {len(unis)} universities, {n_companies} companies, {n_courses} courses, "
        f"{len(people)} trainees, {enrolled} enrollments, {accepted} completions, "
        f"{issued} certificates"
        + (f" ({refused} refused)" if refused else "")
        + f"; log in as {ADMIN[0]} / {ADMIN[1]} (admin) or {staff} / {STAFF_PASSWORD} (staff)"
    )
