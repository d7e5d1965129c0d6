"""ORM models, one file per entity. Importing this package registers all tables."""

from lianluo.models.agent import Agent, AgentSkill, AgentStateName
from lianluo.models.contact import Contact, ContactState
from lianluo.models.conversation import Conversation
from lianluo.models.customer import Customer
from lianluo.models.event import Event
from lianluo.models.identity import Identity, IdentityKind
from lianluo.models.kb_article import KbArticle, KbArticleVersion
from lianluo.models.kb_contributor import KbContributor
from lianluo.models.kb_feedback import KbFeedback
from lianluo.models.kb_index import KbDocument, KbIndexStats, KbPosting
from lianluo.models.leg import Leg
from lianluo.models.message import Message
from lianluo.models.partner import Partner
from lianluo.models.queue import Queue
from lianluo.models.routing_state import RoutingState
from lianluo.models.skill import Skill
from lianluo.models.tenant import Tenant
from lianluo.models.user import Role, User

__all__ = [
    "Agent",
    "AgentSkill",
    "AgentStateName",
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
    "KbDocument",
    "KbFeedback",
    "KbIndexStats",
    "KbPosting",
    "Leg",
    "Message",
    "Partner",
    "Queue",
    "Role",
    "RoutingState",
    "Skill",
    "Tenant",
    "User",
]
