"""ORM models, one file per entity. Importing this package registers all tables."""

from lianluo.models.agent import Agent, AgentSkill, AgentStateName
from lianluo.models.chat import CannedReply, ChatSession
from lianluo.models.contact import Contact, ContactState
from lianluo.models.conversation import Conversation
from lianluo.models.customer import Customer
from lianluo.models.event import Event
from lianluo.models.identity import Identity, IdentityKind
from lianluo.models.kb_article import KbArticle, KbArticleVersion
from lianluo.models.kb_contributor import KbContributor
from lianluo.models.kb_feedback import KbFeedback
from lianluo.models.kb_index import KbDocument, KbIndexHead, KbIndexStats, KbTermPostings
from lianluo.models.kb_synonyms import KbSynonyms
from lianluo.models.leg import Leg
from lianluo.models.message import Message
from lianluo.models.partner import Partner
from lianluo.models.queue import Queue
from lianluo.models.routing_state import RoutingState
from lianluo.models.saved_report import SavedReport
from lianluo.models.schedule_activity import ScheduleActivity
from lianluo.models.skill import Skill
from lianluo.models.tenant import Tenant
from lianluo.models.ticket import Ticket
from lianluo.models.ticket_category import TicketCategory
from lianluo.models.ticket_entry import TicketAttachment, TicketEntry, TicketFollowUp
from lianluo.models.ticket_settings import TicketSettings
from lianluo.models.user import Role, User
from lianluo.models.voice_control import VoiceControl
from lianluo.models.voice_phone import VoicePhone

__all__ = [
    "Agent",
    "AgentSkill",
    "AgentStateName",
    "CannedReply",
    "ChatSession",
    "Contact",
    "ContactState",
    "Conversation",
    "Customer",
    "Event",
    "Identity",
    "IdentityKind",
    "KbArticle",
    "KbArticleVersion",
    "KbContributor",
    "KbSynonyms",
    "KbDocument",
    "KbIndexHead",
    "KbFeedback",
    "KbIndexStats",
    "KbTermPostings",
    "Leg",
    "Message",
    "Partner",
    "Queue",
    "Role",
    "RoutingState",
    "SavedReport",
    "ScheduleActivity",
    "Skill",
    "Tenant",
    "Ticket",
    "TicketAttachment",
    "TicketCategory",
    "TicketEntry",
    "TicketFollowUp",
    "TicketSettings",
    "User",
    "VoiceControl",
    "VoicePhone",
]
